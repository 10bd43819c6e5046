"""The observatory CLI against independently computed golden values.

Inputs and expected outputs live in tests/golden/observatory/; the expected files were written
by tests/golden/observatory/make_expected.py (standard library + numpy.percentile, no
clusteratlas). See tests/golden/README.md for the conventions and one row worked by hand.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from clusteratlas.cli import app  # an import failure must fail these tests, not skip them

pytestmark = [pytest.mark.integration, pytest.mark.golden]

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "observatory"
PANEL = str(GOLDEN / "panel.csv")
PANEL_REF = str(GOLDEN / "panel_ref.csv")
DEFS = str(GOLDEN / "definitions.csv")

BOOL_COLS = {
    "size_star",
    "specialisation_star",
    "focus_star",
    "qualifying",
    "significant",
    "strong",
    "strong10",
}
STR_COLS = {"region", "cluster", "cluster_name", "type", "quadrant"}
KEYS = {
    "clusters": ["year", "region", "cluster"],
    "shiftshare": ["region", "cluster"],
    "regions": ["year", "region"],
    "industries": ["year", "cluster"],
}
TRUE = {"True", "true", "1"}
FALSE = {"False", "false", "0"}


def run_cli(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert out.exists(), f"no output written\n{result.output}"
    return out


def read(path: Path | str) -> pd.DataFrame:
    # Everything as text (so codes such as region, cluster, industry stay strings and empty
    # cells stay ""); numbers and booleans are parsed cell by cell below.
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def parse_bool(cell: str, where: str):
    if cell == "":
        return None
    if cell in TRUE:
        return True
    if cell in FALSE:
        return False
    raise AssertionError(f"{where}: not a boolean: {cell!r}")


def parse_float(cell: str, where: str) -> float:
    if cell == "":
        return math.nan
    try:
        return float(cell)
    except ValueError as exc:
        raise AssertionError(f"{where}: not a number: {cell!r}") from exc


def assert_matches(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    assert list(got.columns) == list(expected.columns)
    got = got.sort_values(keys, kind="stable").reset_index(drop=True)
    expected = expected.sort_values(keys, kind="stable").reset_index(drop=True)
    got_keys = list(got[keys].itertuples(index=False, name=None))
    exp_keys = list(expected[keys].itertuples(index=False, name=None))
    missing = sorted(set(exp_keys) - set(got_keys))
    extra = sorted(set(got_keys) - set(exp_keys))
    assert got_keys == exp_keys, f"rows differ: missing {missing}, unexpected {extra}"
    for col in expected.columns:
        if col in keys:
            continue
        where = [f"{col} @ {k}" for k in exp_keys]
        if col in BOOL_COLS:
            g = [parse_bool(c, w) for c, w in zip(got[col], where, strict=True)]
            e = [parse_bool(c, w) for c, w in zip(expected[col], where, strict=True)]
            bad = [(w, x, y) for w, x, y in zip(where, e, g, strict=True) if x != y]
            assert not bad, f"(where, expected, got): {bad}"
        elif col in STR_COLS:
            bad = [
                (w, x, y) for w, x, y in zip(where, expected[col], got[col], strict=True) if x != y
            ]
            assert not bad, f"(where, expected, got): {bad}"
        else:
            g = np.array([parse_float(c, w) for c, w in zip(got[col], where, strict=True)])
            e = np.array([parse_float(c, w) for c, w in zip(expected[col], where, strict=True)])
            empty = [
                (w, x, y)
                for w, x, y in zip(where, e, g, strict=True)
                if math.isnan(x) != math.isnan(y)
            ]
            assert not empty, f"empty vs non-empty (where, expected, got): {empty}"
            # atol only absorbs float noise around exact zeros (e.g. a regional shift of 0).
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9, err_msg=col)


def check(tmp_path: Path, command: str, expected_file: str, *args: str) -> pd.DataFrame:
    got = read(run_cli(tmp_path, command, *args))
    expected = read(GOLDEN / expected_file)
    assert_matches(got, expected, KEYS[command])
    return got


# ---------------------------------------------------------------- clusters
def test_clusters_base_year_matches_golden(tmp_path):
    check(
        tmp_path,
        "clusters",
        "expected_clusters.csv",
        PANEL,
        "--definitions",
        DEFS,
        "--base-year",
        "2015",
    )


def test_clusters_lq_base_type_matches_golden(tmp_path):
    check(
        tmp_path,
        "clusters",
        "expected_clusters_type.csv",
        PANEL,
        "--definitions",
        DEFS,
        "--lq-base",
        "type",
    )


def test_clusters_reference_region_matches_golden(tmp_path):
    got = check(
        tmp_path,
        "clusters",
        "expected_clusters_ref.csv",
        PANEL_REF,
        "--definitions",
        DEFS,
        "--reference-region",
        "EU",
        "--base-year",
        "2015",
    )
    assert "EU" not in set(got["region"])


def test_clusters_without_definitions_matches_golden(tmp_path):
    check(tmp_path, "clusters", "expected_clusters_nodefs.csv", PANEL)


def test_clusters_single_year_returns_that_year_only(tmp_path):
    got = read(
        run_cli(
            tmp_path,
            "clusters",
            PANEL,
            "--definitions",
            DEFS,
            "--base-year",
            "2015",
            "--year",
            "2020",
        )
    )
    expected = read(GOLDEN / "expected_clusters.csv")
    expected = expected[expected["year"] == "2020"]
    assert_matches(got, expected, KEYS["clusters"])


def test_clusters_without_base_year_drops_change_columns_and_empty_cells(tmp_path):
    # Without --base-year only cells with employment > 0 in that year are rows
    # (R4/RETL/2020, employment 0, disappears) and the four change columns are absent.
    got = read(run_cli(tmp_path, "clusters", PANEL, "--definitions", DEFS))
    expected = read(GOLDEN / "expected_clusters.csv")
    expected = expected[expected["employment"].astype(int) > 0]
    expected = expected.drop(columns=["change", "growth_cagr", "lq_change", "quadrant"])
    assert_matches(got, expected, KEYS["clusters"])


# ---------------------------------------------------------------- shift-share
def test_shiftshare_matches_golden(tmp_path):
    check(
        tmp_path,
        "shiftshare",
        "expected_shiftshare.csv",
        PANEL,
        "--definitions",
        DEFS,
        "--base-year",
        "2015",
        "--year",
        "2020",
    )


def test_shiftshare_reference_region_matches_golden(tmp_path):
    check(
        tmp_path,
        "shiftshare",
        "expected_shiftshare_ref.csv",
        PANEL_REF,
        "--definitions",
        DEFS,
        "--reference-region",
        "EU",
        "--base-year",
        "2015",
        "--year",
        "2020",
    )


def test_shiftshare_components_add_up_to_change(tmp_path):
    got = read(
        run_cli(
            tmp_path,
            "shiftshare",
            PANEL,
            "--definitions",
            DEFS,
            "--base-year",
            "2015",
            "--year",
            "2020",
        )
    )
    parts = got[["national_growth", "industry_mix", "regional_shift"]].astype(float).sum(axis=1)
    np.testing.assert_allclose(parts, got["change"].astype(float), rtol=1e-12, atol=1e-9)


# ---------------------------------------------------------------- regions
def test_regions_matches_golden(tmp_path):
    check(tmp_path, "regions", "expected_regions.csv", PANEL, "--definitions", DEFS)


def test_regions_reference_region_matches_golden(tmp_path):
    check(
        tmp_path,
        "regions",
        "expected_regions_ref.csv",
        PANEL_REF,
        "--definitions",
        DEFS,
        "--reference-region",
        "EU",
    )


def test_regions_without_definitions_matches_golden(tmp_path):
    check(tmp_path, "regions", "expected_regions_nodefs.csv", PANEL)


# ---------------------------------------------------------------- industries
def test_industries_matches_golden(tmp_path):
    # Convention pinned here (tests/golden/README.md): x_r = E_r / E with E_r the region's
    # employment over ALL industries, unmapped ones included (the `total` LQ denominator,
    # so that y_r / x_r is the reported lq). The no-definitions test does not depend on it.
    check(tmp_path, "industries", "expected_industries.csv", PANEL, "--definitions", DEFS)


def test_industries_without_definitions_matches_golden(tmp_path):
    check(tmp_path, "industries", "expected_industries_nodefs.csv", PANEL)


def test_industries_reference_region_is_excluded(tmp_path):
    # The reference region is only left out of the regions: same numbers as without it.
    check(
        tmp_path,
        "industries",
        "expected_industries.csv",
        PANEL_REF,
        "--definitions",
        DEFS,
        "--reference-region",
        "EU",
    )


# ---------------------------------------------------------------- the golden files themselves
def test_expected_files_reproduce_from_make_expected(tmp_path):
    subprocess.run([sys.executable, str(GOLDEN / "make_expected.py"), str(tmp_path)], check=True)
    written = sorted(p.name for p in tmp_path.glob("expected_*.csv"))
    assert written == sorted(p.name for p in GOLDEN.glob("expected_*.csv"))
    for name in written:
        assert (tmp_path / name).read_text() == (GOLDEN / name).read_text(), name
