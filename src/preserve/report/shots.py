"""Screenshots in the HTML report: a thumbnail of each rendered capture, and an edited page's
before and after side by side, embedded as data: URIs so the report stays one file. The
images are the thumbnails the render made (a quarter of the page's width, JPEG); the caller
reads them from the archive and leaves out any over MAX_THUMBNAIL bytes."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping

from preserve.report.markup import esc
from preserve.report.model import CaptureRef, Report
from preserve.report.wording import human_time

MAX_THUMBNAIL = 256 * 1024  # bytes of one embedded thumbnail, at most


def rendered_captures(report: Report) -> list[int]:
    """The ids of the rendered captures the report shows (whose thumbnails it embeds)."""
    refs: list[CaptureRef | None] = []
    for dossier in report.articles:
        refs += [dossier.first_capture, dossier.last_capture]
        for citation in dossier.citations:
            refs += [citation.first_capture, citation.last_capture]
        for edit in dossier.edits:
            refs += [edit.before, edit.after]
    return list(dict.fromkeys(ref.id for ref in refs if ref is not None and ref.rendered))


def data_uris(images: Iterable[tuple[int, bytes]]) -> dict[int, str]:
    """JPEG thumbnails by capture id as data: URIs, those too big left out."""
    return {
        capture_id: "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
        for capture_id, data in images
        if data and len(data) <= MAX_THUMBNAIL
    }


def figure(ref: CaptureRef | None, label: str, shots: Mapping[int, str]) -> str:
    """One capture's thumbnail with its caption; "" when it has none."""
    if ref is None or ref.id not in shots:
        return ""
    return (
        f'<figure class="shot"><img src="{shots[ref.id]}" alt="{esc(label)}: the page as '
        f'rendered" loading="lazy"><figcaption>{esc(label)} &middot; '
        f"{esc(human_time(ref.captured_at))}</figcaption></figure>"
    )


def side_by_side(
    before: CaptureRef | None,
    after: CaptureRef | None,
    shots: Mapping[int, str],
    labels: tuple[str, str] = ("before", "after"),
) -> str:
    """Two captures' thumbnails next to each other (or the one that has one)."""
    figures = figure(before, labels[0], shots) + figure(after, labels[1], shots)
    return f'<div class="shots">{figures}</div>\n' if figures else ""
