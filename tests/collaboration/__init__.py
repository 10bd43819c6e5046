"""Collaboration tests. (A package, so that its conftest is ``collaboration.conftest`` and
``from conftest import …`` elsewhere keeps finding tests/conftest.py.)"""
