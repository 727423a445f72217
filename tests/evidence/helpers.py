"""Evidence packages in tests: what `made` holds, and reading, rewriting and verifying a
package."""

from __future__ import annotations

import json
import sqlite3
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.support.cli import PRESERVE
from tests.support.tsa import LocalTSA

BIN = Path(sys.executable).parent


@dataclass
class Made:
    """An archive with a capture and (a day later) a check of the sample web, a signing key,
    a local TSA, and one package exported from it, signed and time-stamped."""

    root: Path
    archive: Path
    article: str
    sources: dict[str, str]  # name -> url
    key: Path
    public_key: Path
    tsa: LocalTSA
    package: Path
    export_output: str


def rows(archive: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with sqlite3.connect(archive / "preserve.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params)]


def members(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {name: z.read(name) for name in z.namelist()}


def rewrite(package: Path, out: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """A copy of the package, each file passed through `change` (the ZIP itself stays sound:
    this is someone editing files, not a damaged disk)."""
    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change(info.filename, zin.read(info.filename)))
    return out


def verify(package: Path, *options: str) -> Result:
    result = PRESERVE.run(None, "verify-package", str(package), *options)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def failures(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("fail ")]


def digest_doc(package: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(members(package)["datapackage-digest.json"])
    return document


def with_digest_doc(made: Made, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    def change(filename: str, data: bytes) -> bytes:
        if filename != "datapackage-digest.json":
            return data
        document = json.loads(data)
        edit(document)
        return json.dumps(document).encode()

    return rewrite(made.package, made.root / name, change)
