"""Relapse on the protocol's relapse instrument, in that instrument's direction and meaningful change (pure).

The base rule is :func:`ketaclinic.core.instruments.relapse_check_for`: after a response, the latest total
rising back toward the baseline by at least the protocol's ``relapse_fraction`` of the improvement. Every
shipped scored instrument counts a higher total as worse, so "back toward the baseline" is a rise.

On top of it, a rise must be a change the instrument counts as meaningful: when the instrument defines a
clinically important change (Pain NRS: about 2 points or about 30 %, Farrar 2001, DOMAIN.md §5), a rise
from the best total smaller than both is not a relapse (on a 0-10 scale, 2 -> 3 is noise, not a relapse).
A rise of at least the instrument's points (NRS: 2) or at least its response fraction of the baseline
(NRS: 30 % of the baseline pain, the change that counted as a response) is.
So a pain patient whose NRS goes 8 -> 3 -> 8 relapses (rise 5 points, all of the improvement).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from ketaclinic.core.instruments import RelapseCheck, get_instrument, relapse_check_for
from ketaclinic.core.instruments.schema import Instrument


def meaningful_rise(instrument: Instrument, baseline: float, best: float, current: float) -> bool:
    """Is ``current`` worse than ``best`` by a change the instrument counts as clinically important?"""
    rise = Fraction(current) - Fraction(best)
    points = instrument.change.important_change_points
    if points is None:
        return rise > 0
    if rise >= Fraction(str(points)):
        return True
    fraction = instrument.change.response_drop_fraction
    return fraction is not None and rise > 0 and rise >= Fraction(str(fraction)) * Fraction(baseline)


def protocol_relapse_check_for(
    instrument: Instrument, baseline: float, totals: Sequence[float], relapse_fraction: float
) -> RelapseCheck:
    """The relapse rule a protocol's ``outcomes.relapse_instrument`` uses (module docstring)."""
    check = relapse_check_for(instrument, baseline, totals, relapse_fraction)
    if (
        not check.relapsed
        or check.best is None
        or meaningful_rise(instrument, baseline, check.best, totals[-1])
    ):
        return check
    return RelapseCheck(
        False,
        check.responded_at,
        check.best,
        check.regained_fraction,
        f"{check.reason}, but a rise of {float(totals[-1]) - check.best:g} is within the "
        f"{instrument.name}'s everyday variation",
    )


def protocol_relapse_check(
    instrument_id: str, baseline: float, totals: Sequence[float], relapse_fraction: float
) -> RelapseCheck:
    return protocol_relapse_check_for(get_instrument(instrument_id), baseline, totals, relapse_fraction)
