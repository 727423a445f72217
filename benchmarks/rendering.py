"""The rendering benchmark (issue 16, docs/browser.md): a web of 50 script-built pages on
127.0.0.1, captured rendered in Chromium and by plain HTTP in the same run, and 50 pages that
need no rendering captured under `--browser auto` and `--browser never`. Results are ratios
against the peer measured in the same run: time per page, and the peak memory (PSS) of the
whole process tree, Chromium's processes included."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGES = 50
WORDS = (
    "The committee heard that the harbour contract was signed in March, months before the "
    "tender closed, and that two of the bidders were never told the terms had changed."
)


def _shell(n: int) -> str:
    return f"""<!doctype html><html><head><title>Loading</title></head><body>
<div id="root">Loading...</div><script>
fetch('/api/{n}.json').then(r => r.json()).then(d => {{
  document.title = d.title;
  const root = document.getElementById('root'); root.textContent = '';
  const article = document.createElement('article');
  for (const text of d.paras) {{
    const p = document.createElement('p'); p.textContent = text; article.appendChild(p);
  }}
  const a = document.createElement('a'); a.href = '/source/{n}'; a.textContent = 'the source';
  article.appendChild(a); root.appendChild(article);
}});
</script></body></html>"""


def _full(n: int) -> str:
    paragraphs = "".join(f"<p>Paragraph {i} of page {n}. {WORDS}</p>" for i in range(8))
    return (
        f"<!doctype html><html><head><title>Page {n}</title></head><body><article>"
        f"<h1>Page {n}</h1>{paragraphs}</article></body></html>"
    )


def _api(n: int) -> str:
    paras = [f"Paragraph {i} of page {n}. {WORDS}" for i in range(8)]
    return json.dumps({"title": f"Page {n}", "paras": paras})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        parts = self.path.strip("/").split("/")
        kind, name = (parts + ["", ""])[:2]
        number = name.split(".")[0]
        if kind == "shell" and number.isdigit():
            body, kind_type = _shell(int(number)), "text/html; charset=utf-8"
        elif kind == "full" and number.isdigit():
            body, kind_type = _full(int(number)), "text/html; charset=utf-8"
        elif kind == "api" and number.isdigit():
            body, kind_type = _api(int(number)), "application/json"
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def measure(
    work: Path, preserve: Callable[..., Any], log: Callable[[str], None], repeat: int = 2
) -> dict[str, Any]:
    """Capture the 50 script-built pages rendered and plain, and 50 full pages under auto
    and never; each `repeat` times, the best (least wall time) kept."""
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    shells = [f"{base}/shell/{n}" for n in range(PAGES)]
    full = [f"{base}/full/{n}" for n in range(PAGES)]
    results: dict[str, Any] = {"pages": PAGES}
    try:
        plan = (
            ("rendered", shells, "always"),
            ("plain", shells, "never"),
            ("auto_no_render", full, "auto"),
            ("never_no_render", full, "never"),
        )
        for name, urls, mode in plan:
            runs = []
            for attempt in range(repeat):
                log(f"render: {name}, run {attempt + 1} of {repeat}")
                archive = work / f"render-{name}-{attempt}"
                runs.append(
                    preserve(
                        archive,
                        "capture",
                        "--quiet",
                        "--depth",
                        "0",
                        "--allow-private",
                        "--browser",
                        mode,
                        *urls,
                    )  # fmt: skip
                )
            results[name] = [run.to_json() for run in runs]
    finally:
        server.shutdown()
    return results


def figures(render: dict[str, Any], figure: Callable[..., Any]) -> list[Any]:
    """The rendering figures: ratios against the peer measured in the same run."""

    def best(name: str) -> dict[str, Any]:
        return min(render[name], key=lambda r: r["wall"])

    pages = render["pages"]
    rendered, plain = best("rendered"), best("plain")
    added = (rendered["wall"] - plain["wall"]) / pages
    auto, never = best("auto_no_render"), best("never_no_render")
    ratio = auto["wall"] / never["wall"]
    return [
        figure(
            f"rendered capture, {pages} script-built pages (wall per page)",
            f"{rendered['wall'] / pages:.2f} s",
            f"plain HTTP {plain['wall'] / pages:.3f} s",
            f"+{added:.2f} s a page",
            "< +1.5 s a page",
            added < 1.5,
        ),
        figure(
            "rendered capture: peak memory of the process tree (PSS, Chromium included)",
            f"{rendered['peak_mb']:.0f} MB",
            f"plain HTTP {plain['peak_mb']:.0f} MB",
            f"{rendered['peak_mb'] / max(plain['peak_mb'], 1):.1f}x",
            "< 1000 MB",
            rendered["peak_mb"] < 1000,
        ),
        figure(
            f"--browser auto on {pages} pages that need no rendering (wall)",
            f"{auto['wall']:.2f} s",
            f"--browser never {never['wall']:.2f} s",
            f"{ratio:.2f}x",
            "<= 1.1x",
            ratio <= 1.1,
        ),
    ]
