"""The percentile definition every monitor figure uses: nearest rank.

The p-th percentile of n values sorted ascending is the value at 1-based rank ceil(p/100 * n)
(rank 1 when that is 0). It is always one of the observed values, and SQL finds it with
`ORDER BY value LIMIT 1 OFFSET rank - 1`, walking an index instead of sorting (the store's
`store/monitor/dialect.index_walk` picks the shorter direction).
"""

from __future__ import annotations

import math
from fractions import Fraction


def nearest_rank(p: float, n: int) -> int:
    """1-based rank of the p-th percentile among `n` sorted values (n >= 1)."""
    if n < 1:
        raise ValueError("a percentile needs at least one value")
    rank = math.ceil(Fraction(str(p)) * n / 100)
    return min(max(rank, 1), n)
