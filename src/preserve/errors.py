"""The exception tree. Outcomes (edited, gone, a failed fetch) are values, not exceptions;
these are for bad input and for failures of the archive itself.

    PreserveError                 anything the CLI reports as one line
    ├── UsageError                bad input from the user (exit 2): nothing is written
    │   └── BadURL                a URL that is not absolute http(s), or cannot be encoded
    ├── ArchiveError              the archive folder cannot be used (exit 2)
    │   ├── ArchiveBusy           another process holds the lock and we were told not to wait
    │   ├── StorageError          a write to local disk failed (full, a file-size limit)
    │   └── ServerUnavailable     a server the archive lives on (PostgreSQL, the S3 store,
    │                             Redis) cannot be reached or failed: worth trying again
    └── IntegrityError            a WARC record does not match what the database says
"""


class PreserveError(Exception):
    """Raised for anything the CLI shows as `Error: …` with an exit code."""

    exit_code = 1


class UsageError(PreserveError):
    """Raised when the user's input cannot be acted on."""

    exit_code = 2


class BadURL(UsageError):
    """Raised when a URL is not an absolute http(s) URL."""


class ArchiveError(PreserveError):
    """Raised when the archive folder is missing, unwritable or not an archive."""

    exit_code = 2


class ArchiveBusy(ArchiveError):
    """Raised when another run holds the archive's lock."""


class StorageError(ArchiveError):
    """Raised when data cannot be written to local disk: full, or over a file-size limit."""


class ServerUnavailable(ArchiveError):
    """Raised when a server the archive lives on cannot be reached or failed mid-way: the
    database server, the WARC store or the broker. What was committed before is intact; a
    worker's task is tried again (its message is not acknowledged)."""


class IntegrityError(PreserveError):
    """Raised when a stored record cannot be read back as recorded."""
