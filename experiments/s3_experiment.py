"""boto3 against SeaweedFS: AWS_ENDPOINT_URL, buckets, multipart + sha256, ranges, outages."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.servers import S3Server

MB = 1024 * 1024
TRANSFER = TransferConfig(multipart_threshold=8 * MB, multipart_chunksize=8 * MB)


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def error_name(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"ClientError {err.get('Code')} (HTTP {status})"
    return type(exc).__name__


def ensure_bucket(client: Any, bucket: str) -> str:
    """Create the bucket if missing; safe when two workers race to create it."""
    try:
        client.head_bucket(Bucket=bucket)
        return "existed"
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
    try:
        client.create_bucket(Bucket=bucket)
        return "created"
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return f"raced: {code}"
        raise


def basics(server: S3Server, big: Path, big_sha: bytes) -> None:
    client = boto3.client("s3")
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}")
    print(f"  AWS_ENDPOINT_URL picked up by boto3.client('s3'): {client.meta.endpoint_url}")
    bucket = server.new_bucket_name()
    print(
        f"  ensure_bucket: {ensure_bucket(client, bucket)}, again: {ensure_bucket(client, bucket)}"
    )
    missing = server.new_bucket_name()
    try:
        client.put_object(Bucket=missing, Key="x", Body=b"x")
        print(f"  put_object into a missing bucket: accepted (bucket made: {missing})")
    except ClientError as exc:
        print(f"  put_object into a missing bucket: {error_name(exc)}")

    # Multipart upload of 20 MB with SHA256 checksums.
    began = time.perf_counter()
    client.upload_file(
        str(big), bucket, "big.warc.gz", Config=TRANSFER, ExtraArgs={"ChecksumAlgorithm": "SHA256"}
    )
    upload = time.perf_counter() - began
    head = client.head_object(Bucket=bucket, Key="big.warc.gz", ChecksumMode="ENABLED")
    parts = [
        hashlib.sha256(big.read_bytes()[i : i + 8 * MB]).digest()
        for i in range(0, big.stat().st_size, 8 * MB)
    ]
    composite = b64(hashlib.sha256(b"".join(parts)).digest()) + f"-{len(parts)}"
    print(
        f"  upload_file 20 MB in {len(parts)} parts, ChecksumAlgorithm=SHA256: {upload:.2f} s\n"
        f"    head ChecksumSHA256={head.get('ChecksumSHA256')!r} "
        f"ChecksumType={head.get('ChecksumType')!r} ETag={head.get('ETag')}\n"
        f"    whole-file sha256 (b64)={b64(big_sha)!r}\n"
        f"    composite of part sha256s={composite!r}"
    )
    began = time.perf_counter()
    body = client.get_object(Bucket=bucket, Key="big.warc.gz")["Body"].read()
    reread = time.perf_counter() - began
    same = hashlib.sha256(body).digest() == big_sha
    print(f"  re-read 20 MB and sha256 it: {reread:.2f} s, matches={same}")

    # Single-part put with the full sha256: does the store check it?
    data = os.urandom(MB)
    good = b64(hashlib.sha256(data).digest())
    client.put_object(Bucket=bucket, Key="one", Body=data, ChecksumSHA256=good)
    head = client.head_object(Bucket=bucket, Key="one", ChecksumMode="ENABLED")
    print(f"  put_object with ChecksumSHA256: stored {head.get('ChecksumSHA256') == good}")
    try:
        wrong = b64(hashlib.sha256(b"other").digest())
        client.put_object(Bucket=bucket, Key="two", Body=data, ChecksumSHA256=wrong)
        print("  put_object with a WRONG ChecksumSHA256: accepted (not verified!)")
    except ClientError as exc:
        print(f"  put_object with a wrong ChecksumSHA256: refused, {error_name(exc)}")
    plain = client.put_object(Bucket=bucket, Key="three", Body=data)
    print(
        f"  plain put_object (botocore's default checksum): response keys with Checksum: "
        f"{sorted(k for k in plain if k.startswith('Checksum'))}"
    )

    # Ranged reads.
    whole = big.read_bytes()
    for rng in ("bytes=100-199", "bytes=-10", f"bytes={len(whole) - 5}-{len(whole) + 100}"):
        got = client.get_object(Bucket=bucket, Key="big.warc.gz", Range=rng)
        chunk = got["Body"].read()
        print(
            f"  GET Range {rng}: HTTP {got['ResponseMetadata']['HTTPStatusCode']}, "
            f"{len(chunk)} bytes, ContentRange={got.get('ContentRange')}, "
            f"correct={chunk == whole[-len(chunk) :] if rng.startswith('bytes=-') else True}"
        )
    got = client.get_object(Bucket=bucket, Key="big.warc.gz", Range="bytes=100-199")
    print(f"    bytes 100-199 equal the file's: {got['Body'].read() == whole[100:200]}")
    try:
        client.get_object(Bucket=bucket, Key="big.warc.gz", Range=f"bytes={len(whole) + 10}-")
    except ClientError as exc:
        print(f"  GET Range past the end: {error_name(exc)}")
    began = time.perf_counter()
    for i in range(50):
        client.get_object(
            Bucket=bucket, Key="big.warc.gz", Range=f"bytes={i * 1000}-{i * 1000 + 16383}"
        )["Body"].read()
    print(f"  50 ranged GETs of 16 KB: {(time.perf_counter() - began) * 1000 / 50:.1f} ms each")


def outages(server: S3Server, big: Path, big_sha: bytes) -> None:
    config = Config(
        connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}
    )
    client = boto3.client("s3", config=config)
    bucket = server.new_bucket_name()
    ensure_bucket(client, bucket)
    client.put_object(Bucket=bucket, Key="k", Body=b"before")
    print("outages (Config connect_timeout=1, read_timeout=2, standard retries, max_attempts=2)")

    for label, fault, heal in (
        ("SIGSTOP (store frozen)", server.pause, server.resume),
        ("stopped (connection refused)", lambda: server.stop(grace=0), server.start),
    ):
        fault()
        ops: list[tuple[str, Callable[[], object]]] = [
            ("put_object", lambda: client.put_object(Bucket=bucket, Key="k2", Body=b"x")),
            (
                "get_object range",
                lambda: client.get_object(Bucket=bucket, Key="k", Range="bytes=0-2"),
            ),
        ]
        for op, call in ops:
            began = time.perf_counter()
            try:
                call()
                print(f"  {label}: {op} succeeded?!")
            except (BotoCoreError, ClientError) as exc:
                seconds = time.perf_counter() - began
                print(f"  {label}: {op} -> {error_name(exc)} after {seconds:.1f} s")
        heal()
        began = time.perf_counter()
        got = client.get_object(Bucket=bucket, Key="k")["Body"].read()
        print(f"  after healing: get -> {got!r} in {(time.perf_counter() - began) * 1000:.0f} ms")

    # A multipart upload frozen in the middle for 8 s, then resumed: botocore's own retries.
    patient = boto3.client(
        "s3",
        config=Config(
            connect_timeout=1, read_timeout=3, retries={"max_attempts": 10, "mode": "standard"}
        ),
    )
    outcome: dict[str, Any] = {}

    def upload() -> None:
        began = time.perf_counter()
        try:
            patient.upload_file(
                str(big),
                bucket,
                "frozen.warc.gz",
                Config=TRANSFER,
                ExtraArgs={"ChecksumAlgorithm": "SHA256"},
            )
            outcome["result"] = "ok"
        except Exception as exc:  # noqa: BLE001 - report whatever it is
            outcome["result"] = error_name(exc)
        outcome["seconds"] = time.perf_counter() - began

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.15)
    server.pause()
    time.sleep(8)
    server.resume()
    thread.join()
    body = client.get_object(Bucket=bucket, Key="frozen.warc.gz")["Body"].read()
    same = hashlib.sha256(body).digest() == big_sha
    print(
        f"  20 MB upload frozen 8 s mid-way (read_timeout=3, max_attempts=10): "
        f"{outcome['result']} in {outcome['seconds']:.1f} s, sha256 ok={same}"
    )
    leftovers = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    print(f"  unfinished multipart uploads left in the bucket: {len(leftovers)}")

    # Down for longer than botocore's retries: our own loop waits, then resumes.
    def upload_with_patience(deadline: float) -> tuple[int, float]:
        attempts = 0
        delay = 0.5
        began = time.perf_counter()
        while True:
            attempts += 1
            try:
                client.upload_file(
                    str(big),
                    bucket,
                    "patient.warc.gz",
                    Config=TRANSFER,
                    ExtraArgs={"ChecksumAlgorithm": "SHA256"},
                )
                return attempts, time.perf_counter() - began
            except (BotoCoreError, ClientError) as exc:
                if (
                    isinstance(exc, ClientError)
                    and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) < 500
                ):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    server.stop(grace=0)
    threading.Timer(12.0, server.start).start()
    attempts, seconds = upload_with_patience(time.monotonic() + 60)
    body = client.get_object(Bucket=bucket, Key="patient.warc.gz")["Body"].read()
    same = hashlib.sha256(body).digest() == big_sha
    print(
        f"  store down 12 s, our retry loop (backoff 0.5 s doubling to 5 s): uploaded after "
        f"{attempts} attempts, {seconds:.1f} s, sha256 ok={same}"
    )


def main() -> None:
    with S3Server() as server:
        print(f"SeaweedFS weed mini answered S3 in {server.start_seconds:.2f} s")
        os.environ.update(server.env())
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "big.bin"
            big.write_bytes(os.urandom(20 * MB))
            big_sha = hashlib.sha256(big.read_bytes()).digest()
            basics(server, big, big_sha)
            outages(server, big, big_sha)
        began = time.perf_counter()
        server.stop(grace=30)
        print(f"SIGTERM to exit: {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        server.start()
        print(f"restart on the same folder: {server.start_seconds:.2f} s")


if __name__ == "__main__":
    main()
