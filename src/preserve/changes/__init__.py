"""Pure judgement of a recapture: classification against the baseline, word and link diffs,
and which results are news."""
