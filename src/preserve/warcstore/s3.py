"""An S3-compatible bucket through boto3: the bucket made if missing, a sealed WARC file put
with its sha256 for the store to check and checked again after, ranged reads, listings.

Everything waits out a store that cannot be reached (refused, timed out, answering 5xx),
retrying with a growing pause, for `patience` seconds (the `warc_store_wait` setting), then
gives up with one line: an upload that gave up leaves its file in the spool, where the next
run finds it and uploads it again (`engine.archive.seal_orphans`)."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from preserve.errors import ArchiveError, ServerUnavailable
from preserve.warcstore.location import S3Location

DEFAULT_PATIENCE = 600.0  # seconds a store may be unreachable before an upload gives up
FIRST_PAUSE, MOST_PAUSE = 0.25, 10.0

T = TypeVar("T")

_clients: dict[int, Any] = {}  # per process: a forked verify worker makes its own
_client_lock = threading.Lock()
_buckets: set[str] = set()  # checked (made if missing) by this process


def client() -> Any:
    """This process's S3 client: endpoint, region and keys from the environment (AWS_*),
    or the AWS files; a short connect timeout, since `_patiently` does the waiting."""
    pid = os.getpid()
    with _client_lock:
        found = _clients.get(pid)
        if found is None:
            import boto3
            from botocore.config import Config

            found = _clients[pid] = boto3.session.Session().client(
                "s3",
                config=Config(
                    connect_timeout=5,
                    read_timeout=60,
                    retries={"mode": "standard", "max_attempts": 2},
                ),
            )
        return found


def endpoint() -> str:
    """Where the store is, for messages (never its keys)."""
    return str(client().meta.endpoint_url)


def _transient(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500 or exc.response.get("Error", {}).get("Code") in (
            "SlowDown",
            "RequestTimeout",
            "InternalError",
        )
    return isinstance(exc, BotoCoreError | OSError)


def _patiently(what: str, patience: float, call: Callable[[], T]) -> T:
    """`call()`, tried again while the store cannot be reached, for `patience` seconds."""
    from botocore.exceptions import BotoCoreError, ClientError

    deadline = time.monotonic() + patience
    pause = FIRST_PAUSE
    while True:
        try:
            return call()
        except FileNotFoundError:
            raise
        except (BotoCoreError, ClientError, OSError) as exc:
            if not _transient(exc):
                raise ArchiveError(f"the WARC store refused to {what}: {_said(exc)}") from exc
            if time.monotonic() + pause > deadline:
                raise ServerUnavailable(
                    f"the WARC store at {endpoint()} could not {what} for {patience:.0f} s: "
                    f"{_said(exc)}"
                ) from exc
            time.sleep(pause)
            pause = min(pause * 2, MOST_PAUSE)


def _said(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def ensure_bucket(location: S3Location, patience: float) -> None:
    """Make the bucket if it is missing (once per process); two workers racing to make it
    are both content."""
    if location.bucket in _buckets:
        return
    from botocore.exceptions import ClientError

    s3 = client()

    def check() -> None:
        try:
            s3.head_bucket(Bucket=location.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise
            try:
                s3.create_bucket(Bucket=location.bucket)
            except ClientError as again:
                if again.response.get("Error", {}).get("Code") not in (
                    "BucketAlreadyOwnedByYou",
                    "BucketAlreadyExists",
                ):
                    raise

    _patiently(f"make the bucket {location.bucket}", patience, check)
    _buckets.add(location.bucket)


def put_file(location: S3Location, path: Path, size: int, sha256: str, patience: float) -> None:
    """Upload a sealed WARC file whole, with its sha256 for the store to check on arrival
    (a store that holds other bytes answers BadDigest), then read back what the store says
    it holds (size and sha256) before anyone records the file as stored."""
    ensure_bucket(location, patience)
    key = location.key(path.name)
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    s3 = client()

    def put() -> None:
        with open(path, "rb") as body:
            s3.put_object(
                Bucket=location.bucket,
                Key=key,
                Body=body,
                ContentLength=size,
                ChecksumSHA256=digest,
                Metadata={"sha256": sha256},
            )
        held = s3.head_object(Bucket=location.bucket, Key=key, ChecksumMode="ENABLED")
        stored = held.get("ChecksumSHA256") or ""
        if held.get("ContentLength") != size or stored.split("-")[0] != digest:
            raise ArchiveError(
                f"the WARC store holds {key} as {held.get('ContentLength')} bytes with "
                f"sha256 {stored or 'unknown'}, not the {size} bytes uploaded ({digest})"
            )

    _patiently(f"store {key}", patience, put)


def head(location: S3Location, name: str, patience: float) -> tuple[int, str | None] | None:
    """The size and sha256 (hex, as uploaded) of a stored file; None if it is not there."""
    from botocore.exceptions import ClientError

    s3 = client()

    def look() -> tuple[int, str | None] | None:
        try:
            held = s3.head_object(Bucket=location.bucket, Key=location.key(name))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(held["ContentLength"]), held.get("Metadata", {}).get("sha256")

    return _patiently(f"look up {name}", patience, look)


def listing(location: S3Location, patience: float) -> Iterator[tuple[str, int]]:
    """(name, size) of every object under the prefix, by name."""
    s3 = client()
    prefix = location.key("")
    pages = _patiently(
        "list its files",
        patience,
        lambda: list(
            s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=prefix)
        ),
    )
    for page in pages:
        for item in page.get("Contents", []):
            name = item["Key"][len(prefix) :]
            if name and "/" not in name:
                yield name, int(item["Size"])


def read_range(location: S3Location, name: str, start: int, stop: int, patience: float) -> bytes:
    """Bytes [start, stop) of a stored file (fewer at its end); FileNotFoundError if the file
    is not there."""
    from botocore.exceptions import ClientError

    s3 = client()

    def get() -> bytes:
        try:
            got = s3.get_object(
                Bucket=location.bucket, Key=location.key(name), Range=f"bytes={start}-{stop - 1}"
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"no such WARC file in the store: {name}") from exc
            if code == "InvalidRange":
                return b""
            raise
        return bytes(got["Body"].read())

    return _patiently(f"read {name}", patience, get)
