import pytest

from clusteratlas.sources import InputError, read_definitions

pytestmark = pytest.mark.integration


def test_us_benchmark_definitions_read_as_published(shared_data):
    path = shared_data / "cmp_cluster_naics_definitions_1997_2012.csv"

    defs = read_definitions(path)

    # Published counts for NAICS 2012 (shared/data/README.md; Delgado, Porter & Stern 2016)
    assert len(defs.table) == 978
    assert defs.clusters["type"].value_counts().to_dict() == {"traded": 51, "local": 16}
    assert int((defs.table["type"] == "traded").sum()) == 675


def test_us_benchmark_definitions_unknown_vintage_is_a_clear_error(shared_data):
    path = shared_data / "cmp_cluster_naics_definitions_1997_2012.csv"

    with pytest.raises(
        InputError,
        match=r"NAICS vintage '2022' is not in the file \(it has "
        r"1997, 2002, 2007, 2012\)",
    ):
        read_definitions(path, vintage="2022")
