"""The documentation says what the code does: every command and option of the command line,
every key of every `--json` document, every table and column of the database.

The command reference (docs/cli.md) is generated from the click commands when `make docs`
builds the site (warnings are errors there), so it cannot miss a command; these tests hold
the hand-written pages and the README to the code. The JSON keys are collected by running
each `--json` command for real, as a user would, against the built-in sample web of
`preserve demo` (three small sites on 127.0.0.1) changed between captures, and every key, at
any depth, must be documented in docs/json.md."""

from __future__ import annotations

import importlib
import json
import re
import select
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result

from preserve.demo import sample
from preserve.store.database import Store
from tests.support.cli import Preserve
from tests.support.tsa import OPENSSL, LocalTSA

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
JSON_PAGE = DOCS / "json.md"
SCHEMA_PAGE = DOCS / "schema.md"
BIN = Path(sys.executable).parent
FAST = ("--allow-private", "--timeout", "5")


def _group() -> click.Group:
    """The group that the `preserve` command runs: its entry point (pyproject.toml's
    [project.scripts]) when that is a group, else the `cli` group of the entry point's
    module, which the entry point function calls."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    module_name, _, name = project["scripts"]["preserve"].partition(":")
    module = importlib.import_module(module_name)
    entry = getattr(module, name)
    group = entry if isinstance(entry, click.Group) else getattr(module, "cli", None)
    assert isinstance(group, click.Group), f"no command group beside {module_name}:{name}"
    return group


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command under `group`, sub-groups walked, as ("name" or "group name", command)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield prefix + name, command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + name + " ")


def _options(command: click.Command) -> list[str]:
    """The option strings of a command (`--json`, `-i`, `--keep/--no-keep` as two), without
    the help option that every command has."""
    spellings: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option):
            spellings += param.opts + param.secondary_opts
    return spellings


COMMANDS = list(_commands(_group()))


def _handwritten() -> str:
    """Every hand-written page of the site (the generated reference aside)."""
    return "\n".join(
        page.read_text(encoding="utf-8")
        for page in sorted(DOCS.glob("*.md"))
        if page.name != "cli.md"
    )


# --- commands and options -------------------------------------------------------------------


def test_the_reference_is_generated_from_the_command_group() -> None:
    """docs/cli.md documents, with sphinx-click, the very group the `preserve` command runs."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    found = re.search(r"^\.\. click:: ([\w.]+):(\w+)$", text, re.MULTILINE)
    assert found, "no click directive in docs/cli.md"
    documented = getattr(importlib.import_module(found.group(1)), found.group(2))
    assert documented is _group()
    assert ":prog: preserve" in text and ":nested: full" in text


@pytest.mark.parametrize("name,command", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    assert command.help and command.help.strip(), f"{name} has no help"
    assert re.search(r"^\s*Examples?:", command.help, re.MULTILINE), f"{name}: no example"
    assert f"preserve {name}" in command.help, f"{name}: the example does not run it"


@pytest.mark.parametrize("name,command", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_is_in_the_readme_table_and_the_docs(
    name: str, command: click.Command
) -> None:
    rows = [
        line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    assert any(row.startswith(f"| `{name}") for row in rows), f"{name} is not in README's table"
    assert f"`preserve {name}" in _handwritten() or f"`{name}" in _handwritten()


def _code_spans(markdown: str) -> str:
    """The inline code spans of Markdown text (fenced blocks left out), one a line."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return "\n".join(re.findall(r"`([^`\n]+)`", prose))


def test_every_option_is_documented() -> None:
    """Every option of the group and of every command appears, as written, in inline code in
    a hand-written page: what it is for is explained somewhere besides the generated
    reference."""
    spans = _code_spans(_handwritten())
    missing = [
        f"{name or 'preserve'} {option}"
        for name, command in [("", _group()), *COMMANDS]
        for option in _options(command)
        if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", spans)
    ]
    assert missing == []


def test_every_page_is_in_the_table_of_contents() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    pages = [p.stem for p in DOCS.glob("*.md") if p.name != "index.md"]
    assert [p for p in pages if not re.search(rf"^{p}$", index, re.MULTILINE)] == []


def test_the_readme_is_short_and_links_to_the_docs() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 12 * 1024
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).exists(), target


# --- the database ---------------------------------------------------------------------------


def test_every_table_and_column_is_in_the_schema_page(tmp_path: Path) -> None:
    """schema.md against a database made by the migrations: every table, and every column
    of each, in the table's own section."""
    store = Store(tmp_path / "preserve.db")
    try:
        tables = {
            name: [c.name for c in store.db[name].columns]
            for name in store.db.table_names()
            # FTS5's own tables aside (text_search_data, _idx, …): text_search's storage.
            if not name.startswith(("_", "sqlite_"))
            and (name == "text_search_keys" or not name.startswith("text_search_"))
        }
    finally:
        store.close()
    page = SCHEMA_PAGE.read_text(encoding="utf-8")
    sections = _sections(page, "## ")
    missing = []
    for table, columns in tables.items():
        section = next((s for h, s in sections.items() if f"`{table}`" in h), None)
        if section is None:
            missing.append(table)
            continue
        missing += [f"{table}.{c}" for c in columns if f"`{c}`" not in section]
    assert missing == []
    assert "`text_search`" in page and "`text_search_keys`" in page


def _sections(text: str, marker: str) -> dict[str, str]:
    """Headings starting with `marker` → the text under each, up to the next one."""
    parts = re.split(rf"^(?={re.escape(marker)})", text, flags=re.MULTILINE)
    return {part.splitlines()[0]: part for part in parts if part.startswith(marker)}


# --- every key of every --json document -----------------------------------------------------


def _keys(document: Any, into: set[str]) -> set[str]:
    """Every dict key in `document`, at any depth."""
    if isinstance(document, dict):
        for key, value in document.items():
            into.add(key)
            _keys(value, into)
    elif isinstance(document, list):
        for item in document:
            _keys(item, into)
    return into


@dataclass
class Emitted:
    """The keys each `--json` command printed in the run of the sample web."""

    keys: dict[str, set[str]] = field(default_factory=dict)
    documents: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, command: str, result: Result, *, code: int = 0) -> Any:
        assert result.exit_code == code, (command, result.exit_code, result.output)
        document = json.loads(result.stdout)
        self.documents.setdefault(command, []).append(document)
        _keys(document, self.keys.setdefault(command, set()))
        return document


# The commands as the `preserve` script runs them: through the group its entry point names.
ENTRY_POINT = Preserve(_group())


def _edited_article(web: sample.SampleWeb) -> str:
    """The sample article, edited: a new title, one source retargeted, one re-anchored, one
    link removed (its words kept) and a new source cited."""
    news, gov, wire = web.news.base, web.gov.base, web.wire.base
    html = sample.article(news, gov, wire)
    html = html.replace("Who Is Really Fighting Whom", "Who Is Fighting Whom")
    html = html.replace("/docs/annex-2015.pdf", "/docs/annex-2015-revised.pdf")
    html = html.replace(">first response</a>", ">its first response</a>")
    html = re.sub(r'<a href="[^"]*briefing-2016-10-11\.txt">([^<]*)</a>', r"\1", html)
    return html.replace(
        "records the exchange",
        f'records the exchange (<a href="{wire}/2016/10/follow-up">a follow-up report</a>)',
    )


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emitted]:
    """Run every `--json` command on an archive of the sample web: capture; the sources
    edited, removed and moved and the article edited, then check; an edit reverted, then
    check again; status, history, diff, find-text, verify (with a head noted down and one
    that is not in the chain), export (signed, time-stamped where openssl is), verify-package,
    report; and `watch` as a real process, stopped by SIGTERM."""
    root = tmp_path_factory.mktemp("docs-json")
    archive = root / "archive"
    out = Emitted()
    web = sample.SampleWeb()
    tsa = LocalTSA(root / "tsa") if OPENSSL else None
    try:
        article = web.article_url
        intercept = web.wire.base + "/2016/10/intercept-report"
        captured = out.add("capture", ENTRY_POINT.run(archive, "capture", "--json", *FAST, article))
        assert captured["article"]["status"] == "captured"

        web.change()
        web.gov.pages["/docs/annex-2015-revised.pdf"] = web.gov.pages["/docs/annex-2015.pdf"]
        web.wire.html("/2016/10/follow-up", sample.interview())
        web.news.html(sample.ARTICLE_PATH, _edited_article(web))
        checked = out.add("check", ENTRY_POINT.run(archive, "check", "--json", *FAST))
        by_url = {r["url"]: r for r in checked["results"]}
        assert by_url[article]["links"] and by_url[article]["metadata"]
        assert by_url[article]["added_citations"] and by_url[article]["edit"]

        web.wire.html("/2016/10/intercept-report", sample.intercept_report())
        again = out.add("check", ENTRY_POINT.run(archive, "check", "--json", *FAST, intercept))
        assert again["results"][0]["reverted_to"] is not None

        out.add("status", ENTRY_POINT.run(archive, "status", "--json"))
        out.add("list", ENTRY_POINT.run(archive, "list", "--json"))
        out.add("history", ENTRY_POINT.run(archive, "history", "--json", intercept))
        out.add("diff", ENTRY_POINT.run(archive, "diff", "--json", intercept))
        quote = "Haddad did not say the recordings would be shared"
        found = out.add("find-text", ENTRY_POINT.run(archive, "find-text", "--json", quote))
        assert found["matches"] and found["urls"]

        verified = out.add("verify", ENTRY_POINT.run(archive, "verify", "--json"))
        head = verified["chain"]["head"]
        unknown = "sha256:" + "0" * 64
        out.add(
            "verify",
            ENTRY_POINT.run(archive, "verify", "--json", "--head", head, "--head", unknown),
            code=1,
        )

        key = root / "key.pem"
        assert ENTRY_POINT.run(archive, "keygen", "--out", str(key)).exit_code == 0
        package = root / "evidence.wacz"
        stamps = ("--timestamp", tsa.url) if tsa else ()
        made = ENTRY_POINT.run(
            archive,
            "export",
            "--json",
            article,
            "--wacz",
            str(package),
            "--sign",
            str(key),
            *stamps,
        )
        out.add("export", made)
        roots = ("--tsa-root", str(tsa.root)) if tsa else ()
        public = ("--public-key", str(root / "key.pub.pem"))
        out.add(
            "verify-package",
            ENTRY_POINT.run(archive, "verify-package", "--json", str(package), *public, *roots),
        )
        out.add("report", ENTRY_POINT.run(archive, "report", "--json"))

        assert ENTRY_POINT.run(archive, "track", article, "--every", "1s").exit_code == 0
        time.sleep(1.1)
        out.keys["watch"] = _watch(archive, out)
        yield out
    finally:
        web.close()
        if tsa is not None:
            tsa.close()


def _watch(archive: Path, out: Emitted) -> set[str]:
    """`preserve watch --json` in a process of its own: its first run's line, then SIGTERM."""
    watcher = subprocess.Popen(
        [str(BIN / "preserve"), "--archive", str(archive), "watch", "--json", "--interval", "1"]
        + ["--allow-private", "--timeout", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        # One JSON document a line, per run; the first run checks everything (all due).
        ready, _, _ = select.select([watcher.stdout], [], [], 120)
        assert ready, "watch printed nothing in 120 s"
        line = watcher.stdout.readline()
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=120)
    assert watcher.returncode == 0, err
    document = json.loads(line)
    out.documents["watch"] = [document]
    return _keys(document, set())


def _json_commands() -> list[str]:
    return [name for name, command in COMMANDS if "--json" in _options(command)]


@pytest.mark.slow
def test_every_json_command_was_run(emitted: Emitted) -> None:
    assert sorted(emitted.keys) == sorted(_json_commands())


def test_every_json_command_has_its_section() -> None:
    headings = _sections(JSON_PAGE.read_text(encoding="utf-8"), "## ")
    missing = [
        name
        for name in _json_commands()
        if not any(f"`preserve {name} --json`" in h for h in headings)
    ]
    assert missing == []


@pytest.mark.slow
def test_every_json_key_is_documented(emitted: Emitted) -> None:
    page = JSON_PAGE.read_text(encoding="utf-8")
    missing = sorted(
        f"{command}: {key}"
        for command, keys in emitted.keys.items()
        for key in keys
        if f"`{key}`" not in page
    )
    assert missing == []
