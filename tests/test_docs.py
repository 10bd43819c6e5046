"""Documentation that cannot drift: every indicator has its page, and the page names it."""

import pytest

from clusteratlas.observatory import (
    CLUSTER_COLUMNS,
    DYNAMICS_COLUMNS,
    INDUSTRY_COLUMNS,
    REGION_COLUMNS,
    REGISTRY,
    SHIFTSHARE_COLUMNS,
)
from conftest import ROOT

pytestmark = pytest.mark.unit

DOCS = ROOT / "docs"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_indicator_has_a_docs_page_naming_it(name):
    spec = REGISTRY[name]
    page = DOCS / "indicators" / f"{spec.page}.md"

    assert page.is_file(), f"{name}: {page} is missing"
    column = "hoover" if name == "hoover_localisation" else name
    assert f"`{column}`" in page.read_text(encoding="utf-8")


def test_every_output_column_is_in_the_registry():
    keys = {
        "year",
        "region",
        "cluster",
        "cluster_name",
        "type",
        "employment",
        "establishments",
        "payroll",
        "employment_base",
    }
    columns = (
        set(CLUSTER_COLUMNS)
        | set(DYNAMICS_COLUMNS)
        | set(REGION_COLUMNS)
        | set(INDUSTRY_COLUMNS)
        | set(SHIFTSHARE_COLUMNS)
    ) - keys
    registered = set(REGISTRY) | {"hoover"}

    assert sorted(columns - registered) == []


def test_indicator_index_links_every_page():
    index = (DOCS / "indicators" / "README.md").read_text(encoding="utf-8")

    for spec in REGISTRY.values():
        assert f"({spec.page}.md)" in index
