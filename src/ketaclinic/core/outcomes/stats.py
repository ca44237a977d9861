"""95 % confidence intervals for the outcomes dashboard (pure).

* Proportions: the **Wilson score interval** (Wilson EB, J Am Stat Assoc 1927;22:209-212; recommended
  over the Wald interval by Brown, Cai & DasGupta, Stat Sci 2001;16:101-133), z = 1.959964.
* Means: the **t interval** mean ± t(0.975, n − 1) · s / √n, s the sample standard deviation;
  t(0.975, df) is Student's t quantile from ``scipy.stats.t.ppf`` (checked against the NIST/SEMATECH
  e-Handbook table 1.3.6.7.2 in the tests).

No interval is given for n = 0 (proportions) or n < 2 (means): ``low``/``high`` are ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev

from scipy.stats import t as student_t

Z_975 = NormalDist().inv_cdf(0.975)


def t_critical_975(df: int) -> float:
    """The two-sided 95 % critical value of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    return float(student_t.ppf(0.975, df))


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int
    method: str
    numerator: int | None = None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "method": self.method,
            "numerator": self.numerator,
        }


def proportion_estimate(successes: int, n: int) -> Estimate:
    """``successes`` of ``n`` as a percentage with its Wilson 95 % interval (percent)."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} must be between 0 and n = {n}")
    if n == 0:
        return Estimate(None, None, None, 0, "Wilson", 0)
    p, z = successes / n, Z_975
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(
        round(p * 100, 1),
        round(max(0.0, centre - half) * 100, 1),
        round(min(1.0, centre + half) * 100, 1),
        n,
        "Wilson",
        successes,
    )


def mean_estimate(
    values: Sequence[float], *, lowest: float | None = None, highest: float | None = None
) -> Estimate:
    """The mean of ``values`` with its t 95 % interval.

    ``lowest``/``highest`` are the bounds the quantity cannot pass (0 days to response; a change of at
    most 100 %): the symmetric t interval is clipped to them, as the Wilson interval is to 0–100 %, so
    the page never shows an impossible "−3 days". A value outside the bounds is refused.
    """
    n = len(values)
    for v in values:
        if (lowest is not None and v < lowest) or (highest is not None and v > highest):
            raise ValueError(f"value {v} is outside the quantity's range {lowest} to {highest}")
    if n == 0:
        return Estimate(None, None, None, 0, "t")
    mean = fmean(values)
    if n == 1:
        return Estimate(round(mean, 1), None, None, 1, "t")
    half = t_critical_975(n - 1) * stdev(values) / math.sqrt(n)
    low, high = mean - half, mean + half
    if lowest is not None:
        low = max(low, lowest)
    if highest is not None:
        high = min(high, highest)
    return Estimate(round(mean, 1), round(low, 1), round(high, 1), n, "t")
