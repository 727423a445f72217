"""The architecture, held by tests: packages import one way (docs/architecture.md), no
module imports itself round a cycle, nothing below the command line imports click, and no
module is over the size the architecture page allows without saying why."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "preserve"

# What each package may import besides itself and the base modules at the top (errors,
# config, times, urls, terminal, jsondoc, processes, and the package's own __init__).
ALLOWED = {
    "changes": set(),
    "extract": set(),
    "net": set(),
    "warc": {"net"},  # net.exchange only: the data of an exchange, never the fetcher
    "store": set(),
    "warcstore": set(),
    "demo": set(),
    "evidence": {"store", "warc", "engine"},
    "report": {"store", "changes"},
    "browser": {"net", "extract"},  # fetches through net, hands the browser decoded bodies
    "engine": {"net", "warc", "extract", "store", "warcstore", "changes", "browser"},
    "workers": {"engine", "store", "warcstore", "net", "changes"},
    "cli": {
        "engine",
        "net",
        "warc",
        "extract",
        "store",
        "warcstore",
        "changes",
        "report",
        "evidence",
        "demo",
        "browser",
        "workers",
    },  # fmt: skip
}
BASE = {
    "errors",
    "config",
    "times",
    "urls",
    "terminal",
    "jsondoc",
    "processes",
    "coverage",
    "tokens",
}
# Modules over this many lines say why in their docstring ("Long because").
MOST_LINES = 500


def modules() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def name_of(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The preserve modules `path` imports (all of them, or only those imported when the
    module itself is: not inside functions, not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    nodes = _top_level(tree) if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("preserve"):
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    is_module = (SOURCE.parent / (candidate.replace(".", "/") + ".py")).exists()
                    found.add(candidate if is_module else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("preserve")}
    return found


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    nodes: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Try | ast.If):
            nodes += [n for n in ast.walk(node) if isinstance(n, ast.stmt)]
        else:
            nodes.append(node)
    return nodes


def package_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in BASE:
        return None  # the package root or a base module
    return parts[1]


# The API (the package root) and `python -m preserve` stand above everything.
TOP = {"preserve", "preserve.__main__"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SOURCE)))
def test_packages_import_one_way(path: Path) -> None:
    if name_of(path) in TOP:
        return
    mine = package_of(name_of(path))
    wrong = sorted(
        used
        for used in imports(path, top_level_only=False)
        if (theirs := package_of(used)) not in (None, mine)
        and (mine is None or theirs not in ALLOWED[mine])
    )
    assert not wrong, f"{name_of(path)} imports {wrong}"


def test_no_module_imports_itself_round_a_cycle() -> None:
    graph = {name_of(p): imports(p, top_level_only=True) for p in modules()}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt in graph and nxt not in done:
                visit(nxt, [*path, nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, cycles[:3]


def test_nothing_below_the_command_line_imports_click() -> None:
    users = [
        name_of(p)
        for p in modules()
        if package_of(name_of(p)) != "cli"
        and any(
            isinstance(n, ast.Import | ast.ImportFrom)
            and any(
                (getattr(n, "module", None) or a.name).split(".")[0] == "click" for a in n.names
            )
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    ]
    assert not users


def test_every_module_says_its_job_and_long_ones_say_why() -> None:
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstring = ast.get_docstring(tree)
        assert docstring, f"{name_of(path)} has no docstring"
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MOST_LINES or "Long because" in docstring, f"{name_of(path)}: {lines}"


def test_only_the_browser_package_imports_playwright() -> None:
    """Playwright is an extra (docs/dependencies.md): a run that renders nothing never
    imports it, and nothing outside `browser/` may."""
    offenders = []
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(n.split(".")[0] == "playwright" for n in names):
                if name_of(path) not in ("preserve.browser.session", "preserve.browser.page"):
                    offenders.append(name_of(path))
    assert offenders == []
