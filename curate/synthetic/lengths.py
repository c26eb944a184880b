"""Generation lengths drawn to match OpenR1's assistant texts (README, "The embedded offline sample": mean 16,254 characters,
median 12,980, p90 32,888, p99 50,593, at most 59,996 after the 60,000-character filter).

A two-piece log-normal up to the 90th percentile (the lower half narrower, which sets the mean), then
log-linear between the published p90, p99 and maximum: the real distribution is cut by R1's 16k-token cap,
so its tail is lighter than a log-normal's.
"""

from __future__ import annotations

import math
from random import Random

MEDIAN, P90, P99, MAX = 12_980, 32_888, 50_593, 59_996
Z90, Z99, ZMAX = 1.2815516, 2.3263479, 3.5
SIGMA_LOW = 0.62
SIGMA_HIGH = math.log(P90 / MEDIAN) / Z90
MIN_CHARS = 600


def length_at(z: float) -> int:
    """The length at standard-normal quantile `z`."""
    if z <= 0:
        log = math.log(MEDIAN) + SIGMA_LOW * z
    elif z <= Z90:
        log = math.log(MEDIAN) + SIGMA_HIGH * z
    elif z <= Z99:
        log = math.log(P90) + (z - Z90) * math.log(P99 / P90) / (Z99 - Z90)
    else:
        log = min(math.log(MAX), math.log(P99) + (z - Z99) * math.log(MAX / P99) / (ZMAX - Z99))
    return max(MIN_CHARS, int(math.exp(log)))


def draw_length(r: Random) -> int:
    return length_at(r.gauss(0.0, 1.0))
