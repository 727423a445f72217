"""The shape of net/ and warc/: each module says its job in its first line, no module imports
another that imports it back, and the WARC code runs without the network code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import preserve

ROOT = Path(preserve.__file__).parent
PACKAGES = ("net", "warc")
MODULES = sorted(path for package in PACKAGES for path in (ROOT / package).glob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The preserve modules `path` imports, at any level (annotations-only imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    known = {module_name(p) for p in ROOT.rglob("*.py")}
    return {name for name in found if name in known}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_module_opens_with_a_one_line_summary(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith('"""') and len(first) <= 100
    summary = first.removeprefix('"""').removesuffix('"""')
    assert summary.endswith("."), first


def test_no_import_cycles_in_net_and_warc() -> None:
    graph = {module_name(path): imports(path) for path in MODULES}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " -> ".join((*trail, name))
        if name in done or name not in graph:
            return
        for imported in graph[name]:
            visit(imported, (*trail, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_warc_code_runs_without_the_network_code() -> None:
    code = (
        "import sys\n"
        "import preserve.warc.writer, preserve.warc.reader, preserve.warc.scan\n"
        "import preserve.net.exchange\n"
        "loaded = [m for m in ('urllib3', 'requests', 'preserve.net.fetcher',\n"
        "          'preserve.net.connections', 'preserve.net.guard') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
