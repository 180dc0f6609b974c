"""What each package may import (docs/architecture.md), checked by parsing every import with `ast`.

- `calibration/` and `acuity/` are pure Python: the standard library, numpy and each other, nothing
  of the web, the database or the event loop. `calibration/` is the lower layer: it imports nothing
  from `acuity/`.
- Application code under `webapp/` never imports eventlet at module level: only the entry points
  (`server.py`, the bench servers) monkey-patch and run eventlet, so the same code runs under
  Flask-SocketIO's threading mode in the tests (docs/platform.md §2). The one exception is the
  psycopg2 wait callback on eventlet's hub, imported inside the function that installs it.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PURE_PACKAGES = ("calibration", "acuity")
PURE_MAY_IMPORT = set(sys.stdlib_module_names) | {"numpy", *PURE_PACKAGES}
# Named so the failure says what kind of thing slipped in; the allow-list above refuses them anyway.
WEB_AND_RUNTIME = {
    "flask",
    "flask_socketio",
    "flask_sqlalchemy",
    "flask_login",
    "flask_wtf",
    "flask_migrate",
    "flask_limiter",
    "werkzeug",
    "jinja2",
    "webapp",
    "sqlalchemy",
    "alembic",
    "eventlet",
    "socketio",
    "engineio",
    "psycopg2",
    "redis",
    "tests",
    "bench",
}
# Modules of webapp/ that may import eventlet, and only inside a function (never at import time).
EVENTLET_INSIDE_A_FUNCTION_ONLY = {"webapp/schema.py"}


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name
    line: int
    in_function: bool

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


def _package_of(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts if path.name == "__init__.py" else parts[:-1]


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    """Every import statement of a module (its file, or `source` as if at `path`), relative ones made absolute."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, child.lineno, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    package = _package_of(path)
                    base = package[: len(package) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                if module != "__future__":
                    found.append(Import(module, child.lineno, inside))
            visit(child, inside)

    visit(tree, False)
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_parser_sees_imports_at_every_depth_and_resolves_relative_ones():
    source = "import math\nfrom . import _common\nfrom ..optotypes import SLOAN\ndef f():\n    import flask\n"
    probe = ROOT / "acuity" / "procedures" / "probe.py"  # not a file: the source is given
    found = {(i.module, i.in_function) for i in imports_of(probe, source)}
    assert found == {("math", False), ("acuity.procedures", False), ("acuity.optotypes", False), ("flask", True)}


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_import_only_the_standard_library_numpy_and_each_other(package):
    modules = modules_under(package)
    assert modules, f"no modules under {package}/"
    wrong = [
        f"{_name(path)}:{imp.line}: imports {imp.module}"
        + (" (web, database or event loop)" if imp.top in WEB_AND_RUNTIME else "")
        for path in modules
        for imp in imports_of(path)
        if imp.top not in PURE_MAY_IMPORT
    ]
    assert not wrong, (
        f"{package}/ is pure Python (standard library, numpy, calibration, acuity); move this to webapp/ "
        f"or pass the value in:\n" + "\n".join(wrong)
    )


def test_calibration_does_not_import_acuity():
    wrong = [
        f"{_name(path)}:{imp.line}: imports {imp.module}"
        for path in modules_under("calibration")
        for imp in imports_of(path)
        if imp.top == "acuity"
    ]
    assert not wrong, "calibration/ is the lower layer (acuity builds on it):\n" + "\n".join(wrong)


def test_application_code_does_not_import_eventlet():
    wrong = []
    for path in modules_under("webapp"):
        for imp in imports_of(path):
            if imp.top != "eventlet":
                continue
            if _name(path) in EVENTLET_INSIDE_A_FUNCTION_ONLY and imp.in_function:
                continue
            wrong.append(f"{_name(path)}:{imp.line}: imports {imp.module}")
    assert not wrong, (
        "only the entry points (server.py, bench/) run eventlet; webapp/ must also run under "
        "Flask-SocketIO's threading mode:\n" + "\n".join(wrong)
    )
