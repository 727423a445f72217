"""The `warc_store` setting read: `s3://bucket/prefix` (endpoint and keys from the usual AWS
variables, `AWS_ENDPOINT_URL` included), or none: the archive's own `warcs/` folder."""

from __future__ import annotations

from dataclasses import dataclass

from preserve.errors import UsageError


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (no leading or trailing slash; may be empty)."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, name: str) -> str:
        """The object key of the WARC file `name`."""
        return f"{self.prefix}/{name}" if self.prefix else name


def parse_store(text: str) -> S3Location:
    """`s3://bucket/prefix` → S3Location; anything else is a UsageError. Keys never go
    here: they come from the environment or the AWS credentials file."""
    scheme, sep, rest = text.partition("://")
    if scheme != "s3" or not sep:
        raise UsageError(f"warc_store must be s3://bucket/prefix, not {text!r}")
    bucket, _, prefix = rest.partition("/")
    if "@" in bucket or ":" in bucket:
        raise UsageError(
            "warc_store names a bucket only (s3://bucket/prefix): the endpoint and keys go "
            "in AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if not (3 <= len(bucket) <= 63) or not all(c.isalnum() or c in ".-" for c in bucket):
        raise UsageError(f"not a bucket name: {bucket!r} (3 to 63 letters, digits, '.' or '-')")
    return S3Location(bucket.lower(), prefix.strip("/"))
