"""The HTML report's CSS and script are real files shipped with the package, inlined into
the page byte for byte; the script's Content-Security-Policy hash is of those bytes. And the
report package stands below the command line: it imports nothing from `preserve.cli`."""

from __future__ import annotations

import ast
import base64
import hashlib
from importlib.resources import files
from pathlib import Path

from lxml import html as lxml_html

from preserve.report import html as htmlreport
from preserve.report.model import Report

ASSETS = files("preserve.report").joinpath("assets")
REPORT_PACKAGE = Path(htmlreport.__file__).parent


def _empty_page() -> str:
    return htmlreport.render(Report("2026-11-27T22:00:04.000000Z", "test", "/archive", (), (), ()))


def test_the_assets_are_package_resources() -> None:
    assert ASSETS.joinpath("report.css").read_bytes().decode("utf-8") == htmlreport.CSS
    assert ASSETS.joinpath("report.js").read_bytes().decode("utf-8") == htmlreport.SCRIPT


def test_the_script_hash_is_of_the_file_bytes_and_in_the_policy() -> None:
    script = ASSETS.joinpath("report.js").read_bytes()
    digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
    assert htmlreport.SCRIPT_HASH == digest
    assert f"script-src 'sha256-{digest}'" in htmlreport.CSP
    doc = lxml_html.document_fromstring(_empty_page())
    meta = doc.find('.//meta[@http-equiv="Content-Security-Policy"]')
    assert meta is not None and meta.get("content") == htmlreport.CSP
    inline = doc.find(".//script")
    assert inline is not None and inline.text is not None
    assert inline.text.encode("utf-8") == script  # what the browser hashes


def test_the_assets_can_be_inlined_as_they_are() -> None:
    """A browser hashes the script with LF line endings, and an inlined file must not close
    its element early."""
    for name, closing in (("report.js", "</script"), ("report.css", "</style")):
        text = ASSETS.joinpath(name).read_bytes().decode("utf-8")
        assert "\r" not in text, name
        assert closing not in text.lower(), name
        assert "<!--" not in text, name
    page = _empty_page()
    assert f"<style>{htmlreport.CSS}</style>" in page
    assert f"<script>{htmlreport.SCRIPT}</script>" in page


def test_the_report_package_imports_nothing_from_the_command_line() -> None:
    for module in sorted(REPORT_PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = [
            node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0
        ] + [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        assert not [name for name in imported if name.startswith("preserve.cli")], module.name
