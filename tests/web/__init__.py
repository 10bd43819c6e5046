"""Tests of the web application (a package, so its conftest does not shadow tests/conftest.py)."""
