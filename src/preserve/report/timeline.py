"""The report's timeline as inline SVG: a lane per URL, a mark per capture or check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from preserve.report.markup import COLOURS, SEVERITY, esc
from preserve.report.model import Lane, Mark
from preserve.report.wording import human_time, reason_text

# The SVG's user units: its width, the column of lane labels, a lane, the time axis on top.
SVG_WIDTH = 960
LABEL_WIDTH = 250
LANE_HEIGHT = 22
AXIS_HEIGHT = 26


def timeline_svg(lanes: Sequence[Lane]) -> str:
    """One lane per URL, a mark per capture or check, coloured by outcome. Marks that fall on
    the same pixel are merged (the most severe outcome wins), so a lane never holds more
    marks than it is wide."""
    when = {m.at: datetime.fromisoformat(m.at) for lane in lanes for m in lane.marks}
    times = list(when.values())
    height = AXIS_HEIGHT + LANE_HEIGHT * max(1, len(lanes)) + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {height}" '
        f'role="img" aria-label="Timeline of captures and checks" '
        'font-family="system-ui, sans-serif" font-size="12">'
    ]
    if not times:
        return out[0] + '<text x="10" y="20">No captures yet.</text></svg>\n'
    start, end = min(times), max(times)
    span = (end - start).total_seconds()
    left, right = LABEL_WIDTH + 10, SVG_WIDTH - 16

    def x_of(moment: datetime) -> float:
        if span <= 0:
            return (left + right) / 2
        return left + (right - left) * (moment - start).total_seconds() / span

    ticks = 1 if span <= 0 else 2 if span < 120 else 4
    for k in range(ticks):
        moment = start + (end - start) * (k / (ticks - 1) if ticks > 1 else 0)
        x = x_of(moment)
        anchor = (
            "start" if k == 0 and ticks > 1 else "end" if k == ticks - 1 and ticks > 1 else "middle"
        )
        out.append(
            f'<line x1="{x:.1f}" y1="{AXIS_HEIGHT - 6}" x2="{x:.1f}" '
            f'y2="{height - 4}" stroke="#e5e7eb"/>'
            f'<text x="{x:.1f}" y="{AXIS_HEIGHT - 10}" fill="#6b7280" '
            f'text-anchor="{anchor}">{esc(_tick(moment, span))}</text>'
        )
    for row, lane in enumerate(lanes):
        y = AXIS_HEIGHT + row * LANE_HEIGHT + LANE_HEIGHT / 2
        if row % 2 == 0:
            out.append(
                f'<rect x="0" y="{y - LANE_HEIGHT / 2:.1f}" width="{SVG_WIDTH}" '
                f'height="{LANE_HEIGHT}" fill="#f8fafc"/>'
            )
        label = lane.label if len(lane.label) <= 38 else lane.label[:37] + "…"
        out.append(
            f'<text x="6" y="{y + 4:.1f}" fill="#1f2937"><title>'
            f"{esc(lane.label)} — {esc(lane.url)}</title>{esc(label)}</text>"
        )
        marks = _merge(lane.marks, lambda at: x_of(when[at]))
        if len(marks) > 1:
            out.append(
                f'<line x1="{marks[0][0]:.1f}" y1="{y:.1f}" x2="{marks[-1][0]:.1f}"'
                f' y2="{y:.1f}" stroke="#cbd5e1" stroke-width="2"/>'
            )
        for x, mark, count in marks:
            quiet = mark.outcome in ("unchanged", "cosmetic")
            radius = 4 if quiet else 6
            note = reason_text(mark.reason)
            if mark.outcome == "gone":
                note += ", confirmed" if mark.confirmed else ", not yet confirmed"
            more = f" (+{count - 1} more here)" if count > 1 else ""
            title = f"{human_time(mark.at)} — {mark.outcome}{': ' + note if note else ''}{more}"
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" '
                f'fill="{COLOURS.get(mark.outcome, "#475569")}" stroke="#fff" '
                f'stroke-width="1.5"><title>{esc(title)}</title></circle>'
            )
    out.append("</svg>\n")
    return "".join(out)


def _merge(marks: Sequence[Mark], x_of: Callable[[str], float]) -> list[tuple[float, Mark, int]]:
    """Marks by pixel: the most severe outcome of those that share one, and how many."""
    merged: dict[int, tuple[float, Mark, int]] = {}
    for mark in marks:
        x = x_of(mark.at)
        key = round(x / 3)
        if key in merged:
            _, kept, count = merged[key]
            if _severity(mark) < _severity(kept):
                kept = mark
            merged[key] = (merged[key][0], kept, count + 1)
        else:
            merged[key] = (x, mark, 1)
    return [merged[k] for k in sorted(merged)]


def _severity(mark: Mark) -> int:
    return SEVERITY.index(mark.outcome) if mark.outcome in SEVERITY else len(SEVERITY)


def _tick(moment: datetime, span: float) -> str:
    """A label of the time axis, as precise as the span of the timeline needs."""
    if span < 10:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
    if span < 120:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if span < 2 * 86400:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d")


def legend(lanes: Sequence[Lane]) -> str:
    """The colours of the outcomes these lanes show, as HTML to put under the SVG."""
    seen = {m.outcome for lane in lanes for m in lane.marks}
    order = [
        o
        for o in (
            "new",
            "unchanged",
            "cosmetic",
            "edited",
            "moved",
            "restored",
            "gone",
            "restricted",
            "unreachable",
            "failed",
        )
        if o in seen
    ]
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{COLOURS[o]}"></i>{esc(o)}</span>' for o in order)
        + "<span>&middot; hover a mark for its time and reason</span></div>\n"
    )
