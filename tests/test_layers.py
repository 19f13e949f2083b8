"""The apps' layers: the outbox at the bottom, councils below the survey (README,
Architecture). An import against the layers brings back the circle the outbox left."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_apps(app: str) -> dict[str, set[str]]:
    """Each top-level package imported by the app's own code (tests excluded) -> files."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / app).rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize(
    ("app", "above"),
    [
        ("outbox", {"authorities", "surveys", "campaigns", "reporting", "stewards"}),
        ("authorities", {"surveys", "campaigns", "reporting", "stewards"}),
    ],
)
def test_lower_layers_import_nothing_from_the_apps_above(app, above):
    imports = imported_apps(app)
    assert {name: files for name, files in imports.items() if name in above} == {}
