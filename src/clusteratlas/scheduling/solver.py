"""Exact scheduling with OR-Tools CP-SAT: objectives in strict order by successive solves,
each fixing the optimum (or best value found) of the previous one as a constraint.

Order: (1) total weight of scheduled meetings; [re-scheduling: (1b) fewest moved meetings];
(2) fairness F_1, F_2, … (F_k: participants with requests who have fewer than
min(k, their requests) scheduled meetings; F_1 is "with requests but no meeting"); (3) fewest
idle gaps. Every step starts from the previous step's schedule (``AddHint``); the first starts
from the greedy heuristic."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from clusteratlas.scheduling.heuristic import compact_slots, greedy_slots
from clusteratlas.scheduling.model import Assignment, Event, Schedule
from clusteratlas.scheduling.quality import (
    Quality,
    evaluate,
    requests_per_participant,
    simple_bound,
)
from clusteratlas.scheduling.relaxation import lp_bound

__all__ = ["Progress", "assign_tables", "heuristic", "reschedule", "solve"]

#: share of the time limit kept free for the end (tables, measures) and solver overruns
DEADLINE_MARGIN = 0.04
#: CP-SAT is used when the model has at most this many slot variables per second of time
#: limit; larger events get the heuristic for the whole time (it is far ahead of CP-SAT there:
#: benchmarks/scheduling.py)
CP_SAT_VARIABLES_PER_SECOND = 2_000
#: a step is not started with less time than this left
MIN_STEP_SECONDS = 0.1
#: share of the time limit for the greedy start (with its repair, fairness and gap passes)
HEURISTIC_SHARE, HEURISTIC_MAX_SECONDS = 0.25, 15.0

#: progress callback: (step name, value of the step's objective, its bound, seconds elapsed)
Progress = Callable[[str, float, float, float], None]


def assign_tables(
    event: Event,
    slot_of: Mapping[str, str],
    previous_tables: Mapping[str, tuple[str, int]] | None = None,
) -> tuple[Assignment, ...]:
    """Table numbers 1..tables in each slot: locked tables first, then a meeting's previous
    table when it stays in the same slot and the table is free (re-scheduling; meeting id →
    (slot, table)), then the lowest free number; input order."""
    taken: dict[str, set[int]] = defaultdict(set)
    table_of: dict[str, int] = {}
    scheduled = [m for m in event.meetings if m.id in slot_of]
    for m in scheduled:
        if m.locked_table is not None:
            table_of[m.id] = m.locked_table
            taken[slot_of[m.id]].add(m.locked_table)
    if previous_tables:
        for m in scheduled:
            slot = slot_of[m.id]
            old_slot, t = previous_tables.get(m.id, (None, 0))
            free = old_slot == slot and 1 <= t <= event.tables[slot] and t not in taken[slot]
            if m.id not in table_of and free:
                table_of[m.id] = t
                taken[slot].add(t)
    next_free: dict[str, int] = defaultdict(lambda: 1)
    for m in scheduled:
        if m.id in table_of:
            continue
        slot = slot_of[m.id]
        t = next_free[slot]
        while t in taken[slot]:
            t += 1
        table_of[m.id] = t
        taken[slot].add(t)
        next_free[slot] = t + 1
    order = {s: i for i, s in enumerate(event.slot_ids())}
    return tuple(
        sorted(
            (Assignment(m.id, slot_of[m.id], table_of[m.id]) for m in scheduled),
            key=lambda a: (order[a.slot], a.table),
        )
    )


def _schedule(
    event: Event,
    slot_of: Mapping[str, str],
    *,
    status: str,
    bound: int,
    fairness_levels: int,
    previous: Mapping[str, str] | None,
    previous_tables: Mapping[str, tuple[str, int]] | None,
    method: str,
    started: float,
    steps: tuple[str, ...] = (),
) -> Schedule:
    quality = evaluate(event, slot_of, fairness_levels=fairness_levels, previous=previous)
    if status == "heuristic":  # proven only when every objective is at a trivial bound
        at_bounds = quality.weight >= bound and not any(quality.fairness)
        status = (
            "optimal" if at_bounds and not quality.idle_gaps and not quality.moved else "feasible"
        )
    return Schedule(
        status=status,
        objective=quality.weight,
        bound=max(bound, quality.weight),
        assignments=assign_tables(event, slot_of, previous_tables),
        unscheduled=tuple(m.id for m in event.meetings if m.id not in slot_of),
        without_meetings=quality.without_meetings,
        fairness=quality.fairness,
        idle_gaps=quality.idle_gaps,
        moved=quality.moved,
        method=method,
        seconds=time.perf_counter() - started,
        steps=steps,
    )


def heuristic(event: Event, *, time_limit: float = 5.0, fairness_levels: int = 2) -> Schedule:
    """The greedy schedule alone; bound: :func:`simple_bound` or the linear relaxation
    (:func:`lp_bound`), whichever is lower. Status ``optimal`` only when every objective is
    at a trivial bound (weight at the bound, nobody short of meetings, no gaps)."""
    started = time.perf_counter()
    slot_of = greedy_slots(event, time_limit=time_limit)
    return _schedule(
        event,
        slot_of,
        status="heuristic",
        bound=_weight_bound(event),
        fairness_levels=fairness_levels,
        previous=None,
        previous_tables=None,
        method="greedy",
        started=started,
    )


def _weight_bound(event: Event) -> int:
    """The better of the simple bound and the linear relaxation's."""
    relaxed = lp_bound(event)
    simple = simple_bound(event)
    return simple if relaxed is None else min(simple, relaxed)


def solve(
    event: Event,
    *,
    time_limit: float = 10.0,
    workers: int = 1,
    fairness_levels: int = 2,
    gaps: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
) -> Schedule:
    """The best schedule CP-SAT finds within ``time_limit`` seconds (all steps together).

    ``status`` is ``optimal`` when every step was proven optimal, else ``feasible``;
    ``bound`` is the proven upper bound on the total weight.
    """
    return _Lexicographic(
        event, time_limit, workers, fairness_levels, gaps, seed, progress, None, None
    ).run()


def reschedule(
    event: Event,
    previous: Schedule | Mapping[str, str],
    *,
    time_limit: float = 10.0,
    workers: int = 1,
    fairness_levels: int = 2,
    gaps: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
) -> Schedule:
    """Schedule a changed event moving as few previously scheduled meetings as possible.

    ``previous`` is the old schedule (or meeting id → slot id). After the total weight, the
    number of moved meetings (previously scheduled meetings still in the event that are now in
    another slot or unscheduled) is minimised, before fairness and gaps. Tables are kept where
    the slot is unchanged and the table is free.
    """
    if isinstance(previous, Schedule):
        old = previous.slot_of()
        tables = {a.meeting: (a.slot, a.table) for a in previous.assignments}
    else:
        old, tables = dict(previous), {}
    ids = {m.id for m in event.meetings}
    old = {mid: s for mid, s in old.items() if mid in ids}
    return _Lexicographic(
        event, time_limit, workers, fairness_levels, gaps, seed, progress, old, tables
    ).run()


def _reporter(progress: Progress, step: str, started: float) -> Any:
    """A CP-SAT solution callback that reports every improving solution of a step."""
    from ortools.sat.python import cp_model

    class Reporter(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            progress(
                step,
                self.objective_value,
                self.best_objective_bound,
                time.perf_counter() - started,
            )

    return Reporter()


class _Lexicographic:
    """One CP-SAT model, solved once per objective; each optimum becomes a constraint."""

    def __init__(
        self,
        event: Event,
        time_limit: float,
        workers: int,
        fairness_levels: int,
        gaps: bool,
        seed: int,
        progress: Progress | None,
        previous: Mapping[str, str] | None,
        previous_tables: Mapping[str, tuple[str, int]] | None,
    ) -> None:
        from ortools.sat.python import cp_model

        self.cp = cp_model  # imported before the clock starts: the import takes seconds
        self.event = event
        self.started = time.perf_counter()
        # a margin for what follows the last solve (tables, measures) and CP-SAT's overrun
        self.deadline = self.started + time_limit * (1 - DEADLINE_MARGIN)
        self.workers = workers
        self.levels = fairness_levels
        self.gaps = gaps
        self.seed = seed
        self.progress = progress
        self.previous = previous
        self.previous_tables = previous_tables
        self.model = cp_model.CpModel()
        self.x: dict[tuple[str, str], Any] = {}
        self.hint: dict[str, str] = {}
        self.steps: list[str] = []

    # -- the model ---------------------------------------------------------------------------

    def _build(self) -> None:
        event, model = self.event, self.model
        by_person_slot: dict[tuple[str, str], list[Any]] = defaultdict(list)
        by_slot: dict[str, list[Any]] = defaultdict(list)
        self.by_person: dict[str, list[Any]] = defaultdict(list)
        for m in event.meetings:
            slots = [m.locked_slot] if m.locked_slot is not None else event.feasible_slots(m)
            for s in slots:
                var = model.new_bool_var(f"x[{m.id},{s}]")
                self.x[m.id, s] = var
                by_person_slot[m.a, s].append(var)
                by_person_slot[m.b, s].append(var)
                by_slot[s].append(var)
                self.by_person[m.a].append(var)
                self.by_person[m.b].append(var)
            chosen = [self.x[m.id, s] for s in slots]
            if m.locked_slot is not None:
                model.add(chosen[0] == 1)
            elif len(chosen) > 1:
                model.add_at_most_one(chosen)
        for vars_ in by_person_slot.values():
            if len(vars_) > 1:
                model.add_at_most_one(vars_)
        for s, vars_ in by_slot.items():
            if len(vars_) > event.tables[s]:
                model.add(sum(vars_) <= event.tables[s])
        for p in event.participants:
            vars_ = self.by_person.get(p.id, [])
            if p.max_meetings is not None and len(vars_) > p.max_meetings:
                model.add(sum(vars_) <= p.max_meetings)
        self.by_person_slot = by_person_slot
        self.weight = sum(
            m.weight * self.x[m.id, s]
            for m in event.meetings
            for s in ([m.locked_slot] if m.locked_slot else event.feasible_slots(m))
        )

    def _fairness_terms(self, k: int) -> tuple[Any, dict[str, tuple[Any, int]], int]:
        """F_k as an expression (participants below min(k, requests)), its indicators, and
        its constant part (people who cannot reach min(k, requests): a lower bound)."""
        requests = requests_per_participant(self.event)
        terms = []
        reached: dict[str, tuple[Any, int]] = {}
        constant = 0
        for pid, r in requests.items():
            need = min(k, r)
            vars_ = self.by_person.get(pid, [])
            if len(vars_) < need:  # can never reach it: a constant of F_k
                constant += 1
                continue
            u = self.model.new_bool_var(f"reached[{pid},{k}]")
            self.model.add(sum(vars_) >= need * u)
            terms.append(1 - u)
            reached[pid] = (u, need)
        return constant + sum(terms), reached, constant

    def _gap_terms(self) -> tuple[Any, list[tuple[Any, list[Any]]]]:
        """Idle gaps: for each participant, available slots in time order; a gap is a slot
        with no meeting after some meeting (prefix) and before some meeting (suffix)."""
        model, event = self.model, self.event
        order = event.slot_ids()
        gap_vars = []
        aux: list[tuple[Any, list[Any]]] = []
        for p in event.participants:
            vars_ = self.by_person.get(p.id, [])
            if len(vars_) < 2 or (p.max_meetings is not None and p.max_meetings < 2):
                continue
            seq = [s for s in order if s in p.available]
            busy = [sum(self.by_person_slot.get((p.id, s), [])) for s in seq]
            n = len(seq)
            if n < 3:
                continue
            pre = [model.new_bool_var(f"pre[{p.id},{i}]") for i in range(n)]
            suf = [model.new_bool_var(f"suf[{p.id},{i}]") for i in range(n)]
            # pre[i]: a meeting in seq[0..i]; suf[i]: a meeting in seq[i..]; both exact
            for i in range(n):
                model.add(pre[i] >= busy[i])
                model.add(suf[i] >= busy[i])
                model.add(pre[i] <= (pre[i - 1] if i else 0) + busy[i])
                model.add(suf[i] <= (suf[i + 1] if i < n - 1 else 0) + busy[i])
                if i:
                    model.add(pre[i] >= pre[i - 1])
                if i < n - 1:
                    model.add(suf[i] >= suf[i + 1])
            # slots with both flags form the span first..last meeting; the gaps are the span
            # minus the meetings: sum(pre) + sum(suf) - n * (any meeting) - meetings
            gap_vars.append(sum(pre) + sum(suf) - n * pre[-1] - sum(vars_))
            aux.append((None, [p.id, seq, pre, suf]))
        return sum(gap_vars), aux

    # -- solving ------------------------------------------------------------------------------

    def _hint(self, slot_of: Mapping[str, str], extra: list[tuple[Any, int]]) -> None:
        self.model.clear_hints()
        for (mid, s), var in self.x.items():
            self.model.add_hint(var, 1 if slot_of.get(mid) == s else 0)
        for var, value in extra:
            self.model.add_hint(var, value)

    def _aux_hints(self, slot_of: Mapping[str, str]) -> list[tuple[Any, int]]:
        """Values of the fairness and gap indicators for a schedule (a complete hint)."""
        busy: dict[str, set[str]] = defaultdict(set)
        for m in self.event.meetings:
            if m.id in slot_of:
                busy[m.a].add(slot_of[m.id])
                busy[m.b].add(slot_of[m.id])
        values: list[tuple[Any, int]] = []
        for reached in self.reached:
            for pid, (u, need) in reached.items():
                values.append((u, int(len(busy[pid]) >= need)))
        for var, info in self.gap_aux:
            if var is None:
                pid, seq, pre, suf = info
                marks = [s in busy[pid] for s in seq]
                for i in range(len(seq)):
                    values.append((pre[i], int(any(marks[: i + 1]))))
                    values.append((suf[i], int(any(marks[i:]))))
            else:
                pid, seq, i = info
                marks = [s in busy[pid] for s in seq]
                values.append((var, int(any(marks[:i]) and any(marks[i + 1 :]) and not marks[i])))
        return values

    def _step(
        self,
        name: str,
        objective: Any,
        maximise: bool,
        share: float,
        measure: Callable[[Quality], int],
        known_bound: int,
    ) -> tuple[int, int]:
        """Optimise one objective within ``share`` of the remaining time; returns (value,
        bound), keeps the schedule as the next hint and fixes the objective at the value.
        When the starting schedule already reaches ``known_bound`` the solver is not run."""
        cp = self.cp
        begun = time.perf_counter()
        start_value = measure(self._measure(self.hint))
        if start_value == known_bound:
            self.steps.append(f"{name}: optimal (the start reaches the bound {known_bound})")
            self.model.add(objective >= start_value if maximise else objective <= start_value)
            return start_value, known_bound
        if self.deadline - begun < MIN_STEP_SECONDS:
            self.steps.append(f"{name}: not solved (no time left), kept the start")
            return start_value, known_bound
        if maximise:
            self.model.maximize(objective)
        else:
            self.model.minimize(objective)
        self._hint(self.hint, self._aux_hints(self.hint))
        solver = cp.CpSolver()
        remaining = max(0.05, self.deadline - time.perf_counter())
        solver.parameters.max_time_in_seconds = max(0.05, remaining * share)
        solver.parameters.num_workers = self.workers
        solver.parameters.random_seed = self.seed
        if name != "weight":  # later steps start from a complete hint: spend less on presolve
            solver.parameters.cp_model_probing_level = 0
            solver.parameters.find_big_linear_overlap = False
        if self.progress is not None:
            status = solver.solve(self.model, _reporter(self.progress, name, self.started))
        else:
            status = solver.solve(self.model)
        if status in (cp.OPTIMAL, cp.FEASIBLE):
            self.hint = {mid: s for (mid, s), var in self.x.items() if solver.boolean_value(var)}
            value = round(solver.objective_value)
            bound = round(solver.best_objective_bound)
            reached = value >= known_bound if maximise else value <= known_bound
            proven = status == cp.OPTIMAL or reached  # the bound proves it otherwise
            kind = "optimal" if proven else "feasible"
            self.steps.append(f"{name}: {kind} in {time.perf_counter() - begun:.1f} s")
        else:  # no solution in time (even the hint): keep the hint, measured in Python
            self.steps.append(f"{name}: {solver.status_name(status).lower()}, kept the start")
            value, bound = start_value, known_bound
        if maximise:
            bound = min(bound, known_bound)
        self.model.add(objective >= value if maximise else objective <= value)
        return value, bound

    def _measure(self, slot_of: Mapping[str, str]) -> Quality:
        return evaluate(self.event, slot_of, fairness_levels=self.levels, previous=self.previous)

    def run(self) -> Schedule:
        event = self.event
        total = self.deadline - self.started
        n_vars = sum(
            1 if m.locked_slot is not None else len(event.feasible_slots(m)) for m in event.meetings
        )
        large = n_vars > CP_SAT_VARIABLES_PER_SECOND * total
        share = 1.0 if large else min(HEURISTIC_MAX_SECONDS, HEURISTIC_SHARE * total) / total
        self.hint = greedy_slots(event, time_limit=share * total, preferred=self.previous)
        if large:
            self.steps.append(
                f"heuristic only: {n_vars:,} slot variables is more than CP-SAT handles in "
                f"{total:.0f} s (≤ {CP_SAT_VARIABLES_PER_SECOND:,} per second)"
            )
            return self._finish("heuristic", _weight_bound(event), "greedy")
        self.reached: list[dict[str, tuple[Any, int]]] = []
        self.gap_aux: list[tuple[Any, list[Any]]] = []
        self._build()
        if not self.x:
            return self._finish("optimal", 0)
        # later steps are usually quick (the first fixes most of the structure): give the
        # first half the time, then share what is left equally
        _, bound = self._step(
            "weight", self.weight, True, 0.5, lambda q: q.weight, _weight_bound(event)
        )
        steps_left = bool(self.previous) + self.levels + self.gaps
        if self.previous:
            moved = sum(
                1 - self.x[mid, s] if (mid, s) in self.x else 1 for mid, s in self.previous.items()
            )
            self._step("moves", moved, False, 1 / steps_left, lambda q: q.moved or 0, 0)
            steps_left -= 1
        for k in range(1, self.levels + 1):
            if self.deadline - time.perf_counter() < MIN_STEP_SECONDS:
                self.steps.append(f"fairness {k}: not solved (no time left), kept the start")
                continue
            expr, reached, floor = self._fairness_terms(k)
            self.reached.append(reached)
            self._step(
                f"fairness {k}",
                expr,
                False,
                1 / steps_left,
                lambda q, k=k: q.fairness[k - 1],
                floor,
            )
            steps_left -= 1
        if self.gaps and self.deadline - time.perf_counter() < MIN_STEP_SECONDS:
            self.steps.append("gaps: not solved (no time left), kept the start")
        elif self.gaps:
            # the fairness steps ignore gaps: compact their schedule first (same meetings);
            # when the gap model is too large for CP-SAT in the time left, only that
            remaining = self.deadline - time.perf_counter()
            size = len(self.x) + 2 * sum(
                len(p.available) for p in event.participants if len(self.by_person[p.id]) > 1
            )
            too_large = size > CP_SAT_VARIABLES_PER_SECOND * remaining
            self.hint = compact_slots(
                event,
                self.hint,
                time_limit=remaining * (1.0 if too_large else 0.25),
                keep=self.previous,
            )
            if too_large:
                self.steps.append(
                    f"gaps: compacted by the heuristic ({size:,} variables is more than CP-SAT "
                    f"handles in the {remaining:.1f} s left)"
                )
            else:
                expr, self.gap_aux = self._gap_terms()
                self._step("gaps", expr, False, 1.0, lambda q: q.idle_gaps, 0)
        status = "optimal" if all(": optimal" in step for step in self.steps) else "feasible"
        return self._finish(status, bound)

    def _finish(self, status: str, bound: int, method: str = "") -> Schedule:
        return _schedule(
            self.event,
            self.hint,
            status=status,
            bound=bound,
            fairness_levels=self.levels,
            previous=self.previous,
            previous_tables=self.previous_tables,
            method=method or f"cp-sat ({self.workers} worker{'s' if self.workers > 1 else ''})",
            started=self.started,
            steps=tuple(self.steps),
        )
