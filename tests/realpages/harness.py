"""Run preserve on the real-page corpus as a user would, and score it: serve every page and
its planted variants on 127.0.0.1, `preserve capture` them all, swap each to its change,
`preserve check` them all, and count what was found.

    python tests/realpages/harness.py [--pages ID...] [--limit N] [--out FILE]

Reports main-text recall and precision against the marked text (word bags; per page in the
JSON), planted edits found (outcome `edited`) and missed by kind, and noise called an edit.
One archive, one capture run and one check run hold every page and variant: each variant has
a URL of its own (`/<page>/<kind>/`), so no baseline is ever another variant's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.realpages.corpus import ROOT, Page, load_pages, overlap, snippet_scores
from tests.realpages.plant import EDIT_KINDS, NOISE_KINDS, Variant, page_variants

CONTROL = "unchanged"  # the page served the same at capture and check


# --- the server ------------------------------------------------------------------------------


class Pages(ThreadingHTTPServer):
    """A web server on 127.0.0.1 whose pages can be swapped between requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def put(self, path: str, body: bytes, content_type: str) -> None:
        with self.lock:
            self.routes[path] = (body, content_type)

    def get(self, path: str) -> tuple[bytes, str] | None:
        with self.lock:
            self.hits[path] += 1
            return self.routes.get(path)

    def __enter__(self) -> Pages:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: Pages
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        found = self.server.get(self.path.split("?", 1)[0])
        body, ctype, status = (
            (found[0], found[1], 200) if found else (b"not found", "text/plain", 404)
        )
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- running preserve ------------------------------------------------------------------------


def preserve_command() -> list[str]:
    """`preserve` as the harness runs it: this Python's, through tests/realpages/offline.py,
    which leaves every host name but the loopback's unresolvable (the pages' own images and
    scripts are on the sites they came from)."""
    return [sys.executable, "-m", "tests.realpages.offline"]


def _environment() -> dict[str, str]:
    """The commands' environment: the work tree importable (for the offline module), and
    no page rendered in Chromium, which the machine may lack and which would make the
    figures depend on it (the corpus pages all have their text in their HTML)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESERVE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PRESERVE_BROWSER"] = "never"
    return env


def run_preserve(archive: Path, *args: str) -> dict[str, Any]:
    """One preserve command with --json; its JSON document."""
    cmd = [*preserve_command(), "--archive", str(archive), *args]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=7200, env=_environment(), cwd=ROOT
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd[:8])} … exited {done.returncode}: {done.stderr}")
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def show_text(archive: Path, url: str) -> str:
    cmd = [*preserve_command(), "--archive", str(archive), "show", url, "--text"]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, env=_environment(), cwd=ROOT
    )
    return done.stdout if done.returncode == 0 else ""


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Job:
    page: Page
    kind: str
    path: str
    variant: Variant | None  # None for the control
    outcome: str = ""
    reason: str = ""


@dataclass
class Report:
    pages: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def plan(pages: Iterable[Page], seeds: Iterable[int] = (0,)) -> list[Job]:
    """An unchanged control for each page, and each kind of change planted with each seed (a
    variant that another seed planted already is left out), each at a URL of its own."""
    jobs = []
    for page in pages:
        jobs.append(Job(page, CONTROL, f"/{page.id}/{CONTROL}/", None))
        seen: set[bytes] = set()
        for seed in seeds:
            for v in page_variants(page, seed):
                if v.changed in seen:
                    continue
                seen.add(v.changed)
                name = v.kind if seed == 0 else f"{v.kind}-{seed}"
                jobs.append(Job(page, v.kind, f"/{page.id}/{name}/", v))
    return jobs


def run(
    pages: list[Page],
    *,
    seeds: Iterable[int] = (0,),
    workers: int = 8,
    keep: Path | None = None,
) -> Report:
    """Serve every page and variant, capture them all in one run, swap each variant to its
    change, check them all in one run; the main text read back with `show --text`."""
    report = Report()
    jobs = plan(pages, seeds)
    archive = keep or Path(tempfile.mkdtemp(prefix="preserve-realpages-"))
    try:
        with Pages() as server:
            for job in jobs:
                body = job.variant.base if job.variant else job.page.html
                server.put(job.path, body, f"text/html; charset={job.page.charset}")
            urls = [server.origin + job.path for job in jobs]
            url_file = archive.parent / f"{archive.name}-urls.txt"
            url_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
            common = ["--allow-private", "--workers", str(workers), "--per-host", str(workers)]
            started = time.monotonic()
            run_preserve(
                archive, "capture", "--from-file", str(url_file), "--depth", "0",
                "--browser", "never", "--json", "-q", *common,
            )  # fmt: skip
            report.seconds["capture"] = time.monotonic() - started

            started = time.monotonic()
            control = {j.page.id: server.origin + j.path for j in jobs if j.kind == CONTROL}
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
                texts = dict(
                    zip(
                        control,
                        pool.map(lambda u: show_text(archive, u), control.values()),
                        strict=True,
                    )
                )
            report.seconds["show"] = time.monotonic() - started

            for job in jobs:
                if job.variant:
                    server.put(
                        job.path, job.variant.changed, f"text/html; charset={job.page.charset}"
                    )
            started = time.monotonic()
            checked = run_preserve(archive, "check", "--json", "-q", *common)
            report.seconds["check"] = time.monotonic() - started
            url_file.unlink()
    finally:
        if keep is None:
            shutil.rmtree(archive, ignore_errors=True)

    by_url = {r["url"]: r for r in checked["results"]}
    for job in jobs:
        result = by_url.get(server.origin + job.path, {})
        job.outcome, job.reason = result.get("outcome", "missing"), result.get("reason") or ""
        v = job.variant
        report.jobs.append(
            {
                "page": job.page.id,
                "kind": job.kind,
                "outcome": job.outcome,
                "reason": job.reason,
                "removed": list(v.removed) if v else [],
                "added": list(v.added) if v else [],
                "sentence": v.sentence if v else "",
            }
        )
    for page in pages:
        text = texts.get(page.id, "")
        row: dict[str, Any] = {
            "page": page.id,
            "package": page.meta["package"],
            "language": page.language,
            "marking": page.marking,
        }
        if page.marking == "snippets":
            row["snippets_found"], row["snippets_leaked"] = snippet_scores(page, text)
        else:
            o = overlap(page.marked, text)
            row.update(recall=o.recall, precision=o.precision, words=o.marked)
        report.pages.append(row)
    return report


# --- the figures ---------------------------------------------------------------------------


def summarise(report: Report) -> dict[str, Any]:
    """The figures of a run: main-text recall and precision against the marked text (full-text
    and snippet-marked pages apart), planted edits found and missed by kind, noise (and the
    unchanged controls) called an edit by kind, and which ones, and the seconds taken."""
    full = [p for p in report.pages if p["marking"] == "full"]
    snip = [p for p in report.pages if p["marking"] == "snippets"]
    edits: dict[str, dict[str, int]] = {k: {"planted": 0, "found": 0} for k in EDIT_KINDS}
    noise: dict[str, dict[str, int]] = {
        k: {"planted": 0, "edited": 0} for k in (CONTROL, *NOISE_KINDS)
    }
    missed: list[dict[str, str]] = []
    false: list[dict[str, str]] = []
    reasons: Counter[str] = Counter()
    for job in report.jobs:
        brief = {k: job[k] for k in ("page", "kind", "outcome", "reason")}
        if job["kind"] in edits:
            edits[job["kind"]]["planted"] += 1
            if job["outcome"] == "edited":
                edits[job["kind"]]["found"] += 1
                reasons[job["reason"]] += 1
            else:
                missed.append(brief)
        elif job["kind"] in noise:
            noise[job["kind"]]["planted"] += 1
            if job["outcome"] == "edited":
                noise[job["kind"]]["edited"] += 1
                false.append(brief)
    return {
        "pages": len(report.pages),
        "urls": len(report.jobs),
        "full": {
            "pages": len(full),
            "recall": round(_mean([p["recall"] for p in full]), 4),
            "precision": round(_mean([p["precision"] for p in full]), 4),
            "under_0_9": sum(p["recall"] < 0.9 for p in full),
        },
        "snippets": {
            "pages": len(snip),
            "found": round(_mean([p["snippets_found"] for p in snip]), 4),
            "leaked": round(_mean([p["snippets_leaked"] for p in snip]), 4),
            "missing": sum(p["snippets_found"] < 1 for p in snip),
        },
        "edits": edits,
        "noise": noise,
        "found_by_reason": dict(reasons.most_common()),
        "missed": missed,
        "noise_edited": false,
        "seconds": {k: round(v, 1) for k, v in report.seconds.items()},
    }


# --- the tables ------------------------------------------------------------------------------


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def tables(report: Report) -> str:
    full = [p for p in report.pages if p["marking"] == "full"]
    snip = [p for p in report.pages if p["marking"] == "snippets"]
    lines = ["### Main text (preserve capture, `show --text`) against the marked text", ""]
    lines += [
        "| pages | marking | recall | precision | pages under 0.9 recall |",
        "|---|---|---|---|---|",
    ]
    recall = [p["recall"] for p in full]
    lines.append(
        f"| {len(full)} | full text | {_mean(recall):.3f} | "
        f"{_mean([p['precision'] for p in full]):.3f} | {sum(r < 0.9 for r in recall)} |"
    )
    if snip:
        lines.append(
            f"| {len(snip)} | snippets | found {_mean([p['snippets_found'] for p in snip]):.3f} |"
            f" leaked {_mean([p['snippets_leaked'] for p in snip]):.3f} | "
            f"{sum(p['snippets_found'] < 1 for p in snip)} missing a snippet |"
        )
    lines += ["", "### Planted changes: outcome of `preserve check`", ""]
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    marking = {p["page"]: p["marking"] for p in report.pages}
    for job in report.jobs:
        outcomes[job["kind"]][job["outcome"]] += 1
    lines += ["| change | planted | edited | other outcomes |", "|---|---|---|---|"]
    for kind in (CONTROL, *EDIT_KINDS, *NOISE_KINDS):
        c = outcomes.get(kind)
        if not c:
            continue
        others = ", ".join(f"{o} {n}" for o, n in c.most_common() if o != "edited")
        lines.append(f"| {kind} | {sum(c.values())} | {c['edited']} | {others} |")
    edits = [j for j in report.jobs if j["kind"] in EDIT_KINDS]
    found = sum(j["outcome"] == "edited" for j in edits)
    noise = [j for j in report.jobs if j["kind"] in NOISE_KINDS or j["kind"] == CONTROL]
    false = sum(j["outcome"] == "edited" for j in noise)
    lines += [
        "",
        f"Edits found: {found} of {len(edits)}; missed: {len(edits) - found}. "
        f"Noise (and unchanged controls) called an edit: {false} of {len(noise)}.",
    ]
    by_marking: dict[str, Counter[str]] = defaultdict(Counter)
    for j in edits:
        by_marking[marking[j["page"]]]["planted"] += 1
        by_marking[marking[j["page"]]]["found"] += j["outcome"] == "edited"
    lines.append(
        "By marking: "
        + "; ".join(f"{m}: {c['found']} of {c['planted']}" for m, c in sorted(by_marking.items()))
        + "."
    )
    lines += ["", "Seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="*", help="only these page ids")
    parser.add_argument("--limit", type=int, help="only the first N pages")
    parser.add_argument(
        "--seeds", type=int, nargs="*", default=[0], help="plant each change with each seed"
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--out", type=Path, help="write the full report (JSON) here")
    parser.add_argument("--keep", type=Path, help="keep the archive in this (new) folder")
    args = parser.parse_args(argv)
    pages = load_pages(args.pages or None)
    if args.limit:
        pages = pages[: args.limit]
    if not pages:
        print("no corpus pages: run tests/realpages/fetch.py first", file=sys.stderr)
        return 2
    report = run(pages, seeds=args.seeds, workers=args.workers, keep=args.keep)
    print(tables(report))
    if args.out:
        args.out.write_text(
            json.dumps(report.__dict__, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
