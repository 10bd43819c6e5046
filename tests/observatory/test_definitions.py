import pandas as pd
import pytest

from clusteratlas.observatory import ClusterDefinitions, DefinitionsError, Panel

pytestmark = pytest.mark.unit


def _defs(**extra):
    frame = pd.DataFrame(
        {
            "industry": ["a1", "a2", "b1"],
            "cluster": ["A", "A", "B"],
            "cluster_name": ["Alpha", "Alpha", "Beta"],
            "type": ["traded", "traded", "local"],
        }
    )
    return frame.assign(**extra)


def test_definitions_apply_aggregates_and_reports_unmapped():
    panel = Panel.from_frame(
        pd.DataFrame(
            {
                "year": [2020] * 4,
                "region": ["r", "r", "r", "s"],
                "industry": ["a1", "a2", "zz", "b1"],
                "employment": [10, 20, 30, 40],
                "flag": ["e", "", "", ""],
            }
        )
    )
    defs = ClusterDefinitions.from_frame(_defs())

    clustered, report = defs.apply(panel)

    assert list(clustered.industries) == ["A", "B"]
    assert clustered.dense("employment", 2020).tolist() == [[30.0, 0.0], [0.0, 40.0]]
    assert clustered.flags.values.tolist() == [[2020, "r", "A", "e"]]
    assert report.industries == ("zz",)
    assert report.share == {2020: 0.3}
    assert "1 industries belong to no cluster (zz)" in report.describe()


def test_definitions_reject_industry_mapped_twice():
    frame = pd.concat(
        [
            _defs(),
            pd.DataFrame(
                [{"industry": "a1", "cluster": "B", "cluster_name": "Beta", "type": "local"}]
            ),
        ],
        ignore_index=True,
    )

    with pytest.raises(
        DefinitionsError,
        match=r"row 3, field 'industry', value 'a1': industry "
        r"mapped twice: to cluster 'A' at row 0 and to 'B' here",
    ):
        ClusterDefinitions.from_frame(frame)


def test_definitions_reject_unknown_type_and_inconsistent_names():
    frame = _defs()
    frame.loc[2, "type"] = "export"
    frame.loc[1, "cluster_name"] = "Alfa"

    with pytest.raises(DefinitionsError) as info:
        ClusterDefinitions.from_frame(frame)

    assert [(p.row, p.field) for p in info.value.problems] == [(2, "type"), (1, "cluster_name")]


def test_definitions_without_names_or_types_use_codes():
    defs = ClusterDefinitions.from_frame(pd.DataFrame({"industry": ["x"], "cluster": ["K"]}))

    assert defs.clusters.reset_index().values.tolist() == [["K", "K", ""]]
    assert not defs.has_types
