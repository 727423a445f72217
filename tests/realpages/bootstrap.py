"""How sure the differences are: a bootstrap over the full-text pages (resampled with
replacement) of the mean recall of a rule minus trafilatura default's, and of its mean
precision minus today's, with 95% intervals.

    python tests/realpages/bootstrap.py [--rules NAME...] [--samples N]

Reads the saved extractions, as choose_extraction.py does.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.realpages.choose_extraction import RULES
from tests.realpages.corpus import overlap
from tests.realpages.evaluate_texts import load_cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="*", choices=list(RULES))
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cases = [c for c in load_cases() if c.page.marking == "full"]
    scores = {
        name: [overlap(c.page.marked, rule(c.texts())) for c in cases]
        for name, rule in RULES.items()
        if name in (args.rules or RULES)
        or name in ("trafilatura default", "today (fast, precision, links)")
    }
    ref = [o.recall for o in scores["trafilatura default"]]
    today = [o.precision for o in scores["today (fast, precision, links)"]]
    rng = random.Random(args.seed)
    draws = [[rng.randrange(len(cases)) for _ in cases] for _ in range(args.samples)]
    print("| rule | recall - default's (95% interval) | precision - today's (95% interval) |")
    print("|---|---|---|")
    for name, os in scores.items():
        dr = [o.recall - r for o, r in zip(os, ref, strict=True)]
        dp = [o.precision - p for o, p in zip(os, today, strict=True)]

        def interval(d: list[float]) -> str:
            means = sorted(statistics.fmean(d[i] for i in draw) for draw in draws)
            lo, hi = means[int(0.025 * len(means))], means[int(0.975 * len(means)) - 1]
            return f"{statistics.fmean(d):+.4f} ({lo:+.4f} to {hi:+.4f})"

        print(f"| {name} | {interval(dr)} | {interval(dp)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
