"""The meeting scheduler of matchmaking events (issue 6): pure, no web and no database.

``parse_event`` validates an event; ``solve`` schedules it exactly with OR-Tools CP-SAT
(objectives in strict order: weight, fairness, idle gaps); ``heuristic`` is the fast greedy
schedule; ``reschedule`` moves as few meetings of a previous schedule as possible. See
docs/scheduling.md.
"""

from clusteratlas.scheduling.model import (
    Assignment,
    Event,
    Meeting,
    Participant,
    Schedule,
    ScheduleInputError,
    Slot,
    parse_event,
)
from clusteratlas.scheduling.quality import Quality, evaluate, simple_bound
from clusteratlas.scheduling.solver import assign_tables, heuristic, reschedule, solve

__all__ = [
    "Assignment",
    "Event",
    "Meeting",
    "Participant",
    "Quality",
    "Schedule",
    "ScheduleInputError",
    "Slot",
    "assign_tables",
    "evaluate",
    "heuristic",
    "parse_event",
    "reschedule",
    "simple_bound",
    "solve",
]
