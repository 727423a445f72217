"""The verdicts on an evidence package: one `Check` per finding, gathered in a report."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    """One check of a package: what was checked, the verdict, and what it proves."""

    name: str
    status: str  # ok | fail | warn | info
    detail: str
    proves: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": self.status,
            "ok": self.status != "fail",
            "detail": self.detail,
            "proves": self.proves,
        }


@dataclass
class PackageReport:
    """Every check of one package, and what it says about itself (when, by what, its
    digest)."""

    path: Path
    checks: list[Check] = field(default_factory=list)
    created: str | None = None
    software: str | None = None
    digest: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [check for check in self.checks if check.status == "fail"]

    def add(self, name: str, status: str, detail: str, proves: str = "") -> None:
        self.checks.append(Check(name, status, detail, proves))

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.path), "ok": self.ok, "digest": self.digest,
                "created": self.created, "software": self.software,
                "checks": [c.to_json() for c in self.checks],
                "problems": [f"{c.name}: {c.detail}" for c in self.problems]}  # fmt: skip


def read_member(
    package: zipfile.ZipFile, name: str, report: PackageReport, check: str = "files"
) -> bytes | None:
    """The bytes of a file in the package; None, and `check` failed, if it is missing or
    cannot be read."""
    try:
        return package.read(name)
    except KeyError:
        report.add(check, "fail", f"{name} is missing")
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        report.add(check, "fail", f"{name} is damaged in the ZIP ({exc})")
    return None
