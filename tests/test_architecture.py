"""The import rules of docs/architecture.md: arrows point inward."""

import ast

import pytest

from conftest import ROOT

pytestmark = pytest.mark.unit

PACKAGE = ROOT / "src" / "clusteratlas"
LAYERS = ["observatory", "scheduling", "sources", "collaboration", "web", "cli"]
ALLOWED = {
    "observatory": set(),
    "scheduling": set(),
    "sources": {"observatory"},
    "collaboration": {"observatory", "scheduling"},
    "web": set(LAYERS),
    "cli": set(LAYERS),
}


def _imported_layers(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "clusteratlas" and len(parts) > 1 and parts[1] in LAYERS:
                yield parts[1]


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if (PACKAGE / layer).is_dir()])
def test_layer_imports_only_allowed_layers(layer):
    found = {}
    for path in (PACKAGE / layer).rglob("*.py"):
        for imported in _imported_layers(path):
            if imported != layer and imported not in ALLOWED[layer]:
                found.setdefault(str(path.relative_to(PACKAGE)), set()).add(imported)

    assert found == {}


def test_observatory_does_no_io():
    banned = {"open", "read_csv", "read_parquet", "to_csv", "to_parquet", "print"}
    offenders = []
    for path in (PACKAGE / "observatory").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in banned:
                    offenders.append(f"{path.name}:{node.lineno} {name}")

    assert offenders == []
