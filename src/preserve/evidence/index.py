"""The CDXJ index of an evidence package, laid out as WACZ replay tools read it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from preserve.evidence.packagewarcs import PackageWarc


def write_index(work: Path, warcs: Sequence[PackageWarc]) -> tuple[Path, Path]:
    """The CDXJ of the package's response, revisit and resource records, sorted, as WACZ
    tools expect it: `index.cdx.gz`, gzip blocks of lines, and `index.idx`, the first key
    and place of each block (ReplayWeb.page reads only this layout; pywb reads the blocks).
    Both are written under `work`; returns their paths."""
    from cdxj_indexer import CDXJIndexer

    idx = io.StringIO()
    cdx_path = work / "index.cdx.gz"
    with open(cdx_path, "wb") as blocks:
        # fields="referrer" (as py-wacz passes) makes cdxj-indexer pair records, which it
        # needs to write recordDigest: the sha256 of each record's gzip member.
        CDXJIndexer(
            output=idx,
            inputs=[str(w.file) for w in warcs],
            sort=True,
            compress=blocks,
            data_out_name="index.cdx.gz",
            fields="referrer",
            records="response,revisit,resource",
            digest_records=True,
        ).process_all()
    idx_path = work / "index.idx"
    idx_path.write_text(idx.getvalue(), encoding="utf-8")
    return cdx_path, idx_path
