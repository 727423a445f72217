"""The store: the archive's database, every table family's statements on one connection.
Every SQL statement preserve runs is in this package."""

from __future__ import annotations

from preserve.store.bulk import BulkReads
from preserve.store.captures import CapturesTable
from preserve.store.checks import ChecksTable
from preserve.store.jobs import JobsTable
from preserve.store.runs import RunsTable


class Store(RunsTable, CapturesTable, ChecksTable, BulkReads, JobsTable):
    """The archive's database (see `StoreBase` for opening and transactions; checks come
    with the tracked URLs they move on)."""
