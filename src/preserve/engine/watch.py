"""`watch`: run due checks as they fall due, until told to stop, telling the news of each run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from preserve.config import Config
from preserve.engine.archive import Archive, Run
from preserve.engine.check import check
from preserve.engine.notify import News
from preserve.engine.results import CheckResult
from preserve.store.database import Store
from preserve.times import Clock, parse_iso, utc_now

# The shortest wait between two looks at the schedule: a check that just ran never starts
# again at once because the next URL is due a millisecond later.
SHORTEST_WAIT = 1.0


def watch(
    archive: Archive,
    *,
    config: Config,
    stop: threading.Event,
    interval: float = 60.0,
    on_change: str | None = None,
    notify: Sequence[str] = (),
    on_results: Callable[[int, list[CheckResult]], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_run: Callable[[Run], None] | None = None,
    on_skipped: Callable[[list[str], list[int]], None] | None = None,
    clock: Clock = utc_now,
) -> None:
    """Check what is due, then sleep until the next URL falls due (at most `interval`
    seconds), until `stop` is set. After each run that checked anything, `on_results` has
    its results, and the `on_change` command and the `notify` URLs its news; a failure of
    either goes to `on_warning` (the check is stored either way)."""
    while not stop.is_set():
        results: list[CheckResult] = []
        news = News(archive.path)
        run_id: int | None = None

        def started(run: Run) -> None:
            nonlocal run_id
            run_id = run.id
            if on_run is not None:
                on_run(run)

        try:
            for chunk in check(
                archive,
                config=config,
                due=True,
                clock=clock,
                stop=stop,
                on_run=started,
                on_skipped=on_skipped,
            ):
                assert run_id is not None
                results.extend(chunk)
                news.add(run_id, chunk)
        finally:
            for failed in news.tell_and_close(on_change, notify):
                if on_warning is not None:
                    on_warning(failed)
        if results and run_id is not None and on_results is not None:
            on_results(run_id, results)
        stop.wait(seconds_until_due(archive.store, interval, clock))


def seconds_until_due(store: Store, longest: float, clock: Clock) -> float:
    """How long to sleep before the next URL falls due: at most `longest` seconds."""
    upcoming = store.next_due()
    if upcoming is None:
        return longest
    return max(SHORTEST_WAIT, min(longest, (parse_iso(upcoming) - clock()).total_seconds()))
