"""Getting data in: files, official statistics and (later) microdata, each as a Panel.

Readers implement :class:`clusteratlas.sources.base.Source` and register in the
``clusteratlas.sources`` entry-point group.
"""

from clusteratlas.sources.base import InputError, Source, available_sources, open_panel
from clusteratlas.sources.cbp import CBPSource
from clusteratlas.sources.eurostat import EurostatSource, read_eurostat
from clusteratlas.sources.table import LongTableSource, read_definitions, read_table

__all__ = [
    "CBPSource",
    "EurostatSource",
    "InputError",
    "LongTableSource",
    "Source",
    "available_sources",
    "open_panel",
    "read_definitions",
    "read_eurostat",
    "read_table",
]
