import pandas as pd
import pytest

from clusteratlas.observatory import ClusterDefinitions, Panel, cluster_table

pytestmark = pytest.mark.unit


def test_cluster_table_carries_the_union_of_cell_flags():
    panel = Panel.from_frame(
        pd.DataFrame(
            {
                "year": [2020, 2020, 2020, 2020, 2021, 2021],
                "region": ["r", "r", "r", "s", "r", "EU"],
                "industry": ["a1", "a2", "b1", "b1", "a1", "a1"],
                "employment": [10, 20, 30, 40, 5, 100],
                "flag": ["e", "c", "", "p", "e", ""],
            }
        )
    )
    defs = ClusterDefinitions.from_frame(
        pd.DataFrame({"industry": ["a1", "a2", "b1"], "cluster": ["A", "A", "B"]})
    )

    table = cluster_table(panel, defs, reference_region="EU")

    got = table[["year", "region", "cluster", "flag"]].astype(object).fillna("").values.tolist()
    assert got == [
        [2020, "r", "A", "c,e"],
        [2020, "r", "B", ""],
        [2020, "s", "B", "p"],
        [2021, "r", "A", "e"],
    ]


def test_cluster_table_has_no_flag_column_without_flags():
    panel = Panel.from_frame(
        pd.DataFrame({"year": [2020], "region": ["r"], "industry": ["a"], "employment": [1]})
    )

    assert "flag" not in cluster_table(panel).columns
