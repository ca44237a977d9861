"""Percentiles of every row of a (rows x values) float64 array, equal bit for bit to ``np.percentile``.

``row_percentiles(a, q)`` returns exactly ``np.percentile(a, q, axis=1)`` (method "linear"), shape
``(len(q), rows)``; the population engine asks it for the 5th/50th/95th percentile of 10,000 virtual
patients at every time point. ``np.percentile`` copies the array and partitions each (contiguous) row with
numpy's introselect, whose data-dependent branches mispredict: about 16 ns per value on this project's
machine (numpy's AVX-512 path for a single kth is slower still there, AMD Zen 4), against well under 1 ns
per value for a vectorised comparison. Measured in ``benchmarks/pk_population.py``.

Selection (exact; the sampling idea of Floyd & Rivest, "Expected time bounds for selection", Commun. ACM
1975;18(3):165-172, done for many rows at once with whole-array operations): for each group of wanted ranks
(the two neighbours of each percentile's virtual index; far-apart groups are handled separately) sorted
systematic samples of each row give two values ``lo <= hi`` likely to enclose the ranks. One comparison pass
per bound counts, per row, the values below ``lo`` and those up to ``hi``; the counts, not the sample, decide.
If they enclose the wanted ranks, the wanted values are the ``rank - below``-th smallest of the row's values
in ``[lo, hi]``, which are gathered in row order (padding: NaN, which no comparison counts and every sort puts
last) and selected the same way until few enough remain to be sorted. If ``lo == hi`` every wanted value is
``lo`` (ties). A row whose counts do not enclose the ranks is tried again with twice the margin, and a group
that stops shrinking is sorted outright; so a poor sample costs time, never exactness. Rows are handled
``BLOCK_VALUES`` values at a time so that the repeated passes over a block find it in the processor's cache.

Interpolation: numpy's own, operation for operation (``numpy/lib/_function_base_impl.py``: ``_quantile``,
``_get_indexes``, ``_lerp``): virtual index ``(n - 1) * (q / 100)``; below ``n - 1`` its floor and the next
order statistic, at or above it the largest value twice with the floor taken as -1;
``gamma = virtual - floor``; ``a + (b - a) * gamma``, or ``b - (b - a) * (1 - gamma)`` where
``gamma >= 0.5``. NaN policy as numpy's: a row holding a NaN is handed to ``np.percentile`` itself (which
returns NaN there). Tests compare with ``np.percentile`` on random arrays with ties, NaN, infinities and one
or two values per row (tests/core/pharmacology/test_percentiles.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SAMPLE = 256  # values sampled per row and level (numpy sorts rows of 256 float64 fast)
FIRST_BLOCKS = 4  # the first level samples this many interleaved sets of SAMPLE values and averages them
MARGIN_SD = 1.5  # bracket half-width beyond the wanted ranks, in binomial standard deviations of the sample
SORT_WIDTH = 2 * SAMPLE  # rows of at most this many values are sorted instead of sampled
NUMPY_WIDTH = 4 * SAMPLE  # rows of at most this many values: np.percentile itself is as fast (measured)
BLOCK_VALUES = 640_000  # values handled together, in whole rows (64 rows of 10,000 patients: 5 MB)
MAX_DEPTH = 16  # levels before a group is sorted outright, whatever its width
BAD_ARRAY = "row_percentiles needs a 2-D float64 array, got {ndim}-D {dtype}."
BAD_PERCENTILES = "Percentiles must be a sequence of numbers in the range [0, 100]; got {value!r}."
BAD_SAMPLE = "sample must be at least 2, got {value!r}."
_BYTE_SUM = np.uint64(0x0101010101010101)  # times eight 0/1 bytes: their sum lands in the top byte


def row_percentiles(a: np.ndarray, q: Sequence[float], *, sample: int = SAMPLE) -> np.ndarray:
    """Exactly ``np.percentile(a, q, axis=1)`` for a 2-D float64 ``a``: shape ``(len(q), rows)``.

    ``sample`` (values sampled per row and level, at least 2) changes only the speed; tests make it small so
    that small arrays go through the selection.
    """
    if a.ndim != 2 or a.dtype != np.float64:
        raise ValueError(BAD_ARRAY.format(ndim=a.ndim, dtype=a.dtype))
    if sample < 2:
        raise ValueError(BAD_SAMPLE.format(value=sample))
    quantiles = np.true_divide(np.asarray(q, dtype=np.float64), 100)
    if quantiles.ndim != 1 or not np.all((quantiles >= 0) & (quantiles <= 1)):
        raise ValueError(BAD_PERCENTILES.format(value=q))
    rows, n = a.shape
    if rows == 0 or n <= NUMPY_WIDTH * sample // SAMPLE:
        return np.asarray(np.percentile(a, q, axis=1))
    virtual = (n - 1) * quantiles
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    gamma = (virtual - previous)[:, None]
    rank_prev = np.where(above, n - 1, previous).astype(np.intp)
    rank_next = np.where(above, n - 1, following).astype(np.intp)
    wanted = np.unique(np.concatenate([rank_prev, rank_next]))

    has_nan = np.isnan(a.max(axis=1))
    x = a[~has_nan] if has_nan.any() else a
    values = np.empty((x.shape[0], wanted.size))
    groups = np.split(wanted, np.flatnonzero(np.diff(wanted) > max(1, n // 64)) + 1)
    step = max(1, min(x.shape[0], BLOCK_VALUES // n))
    scratch = _Scratch.for_rows(step, n, sample)
    for start in range(0, x.shape[0], step):
        block = np.ascontiguousarray(x[start : start + step])
        values[start : start + step] = _block_order_statistics(block, groups, scratch)
    low = values[:, np.searchsorted(wanted, rank_prev)].T
    high = values[:, np.searchsorted(wanted, rank_next)].T
    diff = high - low
    lerp: np.ndarray = np.add(low, diff * gamma)
    np.subtract(high, diff * (1 - gamma), out=lerp, where=gamma >= 0.5)
    if not has_nan.any():
        return lerp
    result = np.empty((quantiles.size, rows))
    result[:, ~has_nan] = lerp
    result[:, has_nan] = np.percentile(a[has_nan], q, axis=1)
    return result


def _block_order_statistics(x: np.ndarray, groups: list[np.ndarray], scratch: _Scratch) -> np.ndarray:
    """The wanted order statistics of every row of ``x`` (NaN-free, all rows ``n`` long), group by group."""
    rows, n = x.shape
    blocks = min(FIRST_BLOCKS, n // scratch.sample)  # >= 1: the rows are longer than the sample
    stride = n // (blocks * scratch.sample)
    picked = x[:, : stride * blocks * scratch.sample : stride].reshape(rows, scratch.sample, blocks)
    first_sample = np.sort(picked.transpose(0, 2, 1), axis=2)  # interleaved blocks, one for every group
    out = []
    for ranks in groups:
        out.append(
            _order_statistics(
                x,
                np.full(rows, n),
                np.broadcast_to(ranks, (rows, ranks.size)),
                margin=MARGIN_SD,
                depth=0,
                scratch=scratch,
                sorted_sample=first_sample,
            )
        )
    return np.concatenate(out, axis=1)


@dataclass(frozen=True)
class _Scratch:
    """Buffers reused by every block, group and level of one call, so that their pages are touched once."""

    below: np.ndarray  # bool, one per value of a block, each row rounded up to a multiple of 8 values
    upto: np.ndarray  # bool, as many
    gathered: np.ndarray  # float64, as many
    inner: np.ndarray  # float64, as many
    sample: int

    @classmethod
    def for_rows(cls, rows: int, n: int, sample: int) -> _Scratch:
        return cls(
            below=np.empty(rows * _round8(n), dtype=bool),
            upto=np.empty(rows * _round8(n), dtype=bool),
            gathered=np.empty(rows * _round8(n)),
            inner=np.empty(rows * _round8(n)),
            sample=sample,
        )


def _order_statistics(
    a: np.ndarray,
    n: np.ndarray,
    ranks: np.ndarray,
    *,
    margin: float,
    depth: int,
    scratch: _Scratch,
    sorted_sample: np.ndarray | None = None,
) -> np.ndarray:
    """The ``ranks``-th smallest (0-based, ``(rows, k)``, sorted along a row) of each row's values.

    A row's values are its first ``n[row]`` entries, none NaN; the entries after them are NaN padding. ``a``
    may be ``scratch.inner`` itself: it is read only before ``scratch.inner`` is written.
    """
    rows, width = a.shape
    sample = scratch.sample
    if width <= SORT_WIDTH * sample // SAMPLE or depth >= MAX_DEPTH:
        return _by_sorting(a, ranks)
    first, last = ranks[:, 0], ranks[:, -1]
    if sorted_sample is None:
        picked = np.take_along_axis(a, (np.arange(sample) * n[:, None]) // sample, axis=1)
        sorted_sample = np.sort(picked, axis=1)[:, None, :]
    lo, hi = _bracket(sorted_sample, n, first, last, margin=margin)
    below_mask = scratch.below[: a.size].reshape(a.shape)
    upto_mask = scratch.upto[: a.size].reshape(a.shape)
    np.less(a, lo[:, None], out=below_mask)
    np.less_equal(a, hi[:, None], out=upto_mask)
    below, upto = _count(below_mask), _count(upto_mask)
    encloses = (below <= first) & (upto > last)
    out = np.empty(ranks.shape)
    tie = encloses & (lo == hi)
    out[tie] = lo[tie, None]
    go = encloses & ~tie
    retry = ~encloses
    again = a[retry] if retry.any() else None  # copied before the scratch buffers are reused
    if go.any():
        np.logical_xor(upto_mask, below_mask, out=upto_mask)  # lo <= value <= hi
        upto_mask[~go] = False
        count = (upto - below)[go]
        gathered = np.compress(upto_mask.ravel(), a.ravel(), out=scratch.gathered[: int(count.sum())])
        padded_width = _round8(int(count.max()))  # a multiple of 8 keeps _count's fast path
        inner = scratch.inner[: count.size * padded_width].reshape(count.size, padded_width)
        inner.fill(np.nan)
        inner[np.arange(padded_width) < count[:, None]] = gathered
        inner_ranks = ranks[go] - below[go, None]
        if 2 * padded_width > width:  # the group stopped shrinking (ties, or a bracket as wide as the row)
            out[go] = _by_sorting(inner, inner_ranks)
        else:
            out[go] = _order_statistics(
                inner, count, inner_ranks, margin=margin, depth=depth + 1, scratch=scratch
            )
    if again is not None:
        out[retry] = _order_statistics(
            again, n[retry], ranks[retry], margin=2 * margin, depth=depth + 1, scratch=scratch
        )
    return out


def _bracket(
    s: np.ndarray, n: np.ndarray, first: np.ndarray, last: np.ndarray, *, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, two values expected to enclose ranks ``first..last`` of its ``n`` values, from ``s`` (rows,
    blocks, m): ``blocks`` sorted samples of ``m`` values each; a bound is the mean over the blocks of their
    values at one position (-inf/+inf past the ends); its margin is that of one sample of ``blocks * m``."""
    rows, blocks, m = s.shape
    size = blocks * m
    f_lo, f_hi = first / n, (last + 1) / n
    j_lo = np.floor((f_lo * size - margin * np.sqrt(size * f_lo * (1 - f_lo)) - 1) / blocks).astype(np.intp)
    j_hi = np.ceil((f_hi * size + margin * np.sqrt(size * f_hi * (1 - f_hi)) + 1) / blocks).astype(np.intp)
    r = np.arange(rows)
    lo = np.where(j_lo >= 0, s[r, :, np.clip(j_lo, 0, m - 1)].mean(axis=1), -np.inf)
    hi = np.where(j_hi < m, s[r, :, np.clip(j_hi, 0, m - 1)].mean(axis=1), np.inf)
    return lo, hi


def _round8(k: int) -> int:
    return -(-k // 8) * 8


def _by_sorting(a: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    found: np.ndarray = np.take_along_axis(np.sort(a, axis=1), ranks, axis=1)
    return found


def _count(mask: np.ndarray) -> np.ndarray:
    """True values per row; eight bytes at a time when the rows allow (numpy's count_nonzero is 5x slower)."""
    counted: np.ndarray
    if mask.shape[1] % 8 == 0 and mask.flags.c_contiguous:
        words = mask.view(np.uint64)
        counted = ((words * _BYTE_SUM) >> np.uint64(56)).sum(axis=1).astype(np.intp)
    else:
        counted = np.count_nonzero(mask, axis=1).astype(np.intp)
    return counted
