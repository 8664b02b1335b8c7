"""ARCHITECTURE.md's rules that a tool can check, checked (issue 29).

Each rule failed on the code before issue 29, or guards a cut made by it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

MAX_LINES, MAX_PARAMS = 60, 6  # issue 29's « done when »


def _functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            doc = isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant
            )
            first = body[1].lineno if doc and len(body) > 1 else body[0].lineno
            args = node.args
            params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            names = [a.arg for a in params if a.arg not in ("self", "cls")]
            names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
            yield node.name, node.end_lineno - first + 1, len(names)


@pytest.mark.parametrize(
    "path",
    sorted(
        [*(ROOT / "layers" / "solar").glob("build*.py"), *(ROOT / "layers").glob("cadastre*.py")]
    ),
    ids=lambda p: p.name,
)
def test_the_build_and_the_cadastre_read_in_short_functions(path):
    """A newcomer reads each stage alone: no function over ~60 lines or 6 parameters."""
    too_big = [
        f"{name} ({lines} lignes, {params} paramètres)"
        for name, lines, params in _functions(path)
        if lines > MAX_LINES or params > MAX_PARAMS
    ]
    assert not too_big, f"{path.name} : {', '.join(too_big)}"


def _sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def test_tables_go_through_widgets_table():
    """ARCHITECTURE.md: « Tables go through widgets.table »; an st.table bypassed it."""
    widgets = ROOT / "pages" / "ui" / "widgets.py"
    drawn = [
        f"{p.relative_to(ROOT)}"
        for p in _sources("pages", "layers")
        if p != widgets
        and re.search(r"\.(table|dataframe|data_editor)\(", p.read_text())
        and re.search(r"\b(st|c\d?|col\w*|where)\.(table|dataframe|data_editor)\(", p.read_text())
    ]
    assert not drawn, drawn


def test_message_levels_are_named_not_looked_up():
    """``getattr(st, level)`` drew whatever string a workflow returned."""
    found = [
        f"{p.relative_to(ROOT)}"
        for p in _sources("pages", "layers")
        if re.search(r"getattr\(\s*st\s*,", p.read_text(encoding="utf-8"))
    ]
    assert not found, found


def test_layers_never_import_streamlit():
    found = []
    for path in _sources("layers"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "streamlit" or n.startswith(("streamlit.", "pages")) for n in names):
                found.append(str(path.relative_to(ROOT)))
    assert not found, found
