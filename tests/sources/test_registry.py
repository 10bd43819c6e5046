import pytest

from clusteratlas.sources import LongTableSource, Source, available_sources, open_panel

pytestmark = pytest.mark.integration


def test_builtin_sources_register_through_the_entry_point_group():
    sources = available_sources()

    assert sources["table"] is LongTableSource
    assert isinstance(LongTableSource(), Source)


def test_open_panel_by_name_and_by_guess_give_the_same_panel(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("year,region,industry,employment\n2020,A,x,3\n2020,B,x,4\n")

    guessed = open_panel(path)
    named = open_panel(path, source="table")

    assert guessed.to_frame().equals(named.to_frame())
    assert guessed.dense("employment", 2020).tolist() == [[3.0], [4.0]]


def test_open_panel_unknown_source_name_lists_installed(tmp_path):
    with pytest.raises(ValueError, match=r"unknown source 'nosuch'; installed: .*table"):
        open_panel(tmp_path / "x.csv", source="nosuch")
