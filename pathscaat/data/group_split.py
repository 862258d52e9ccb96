"""Stratified group assignment: whole groups (slides) to train/val/test, classes kept in each.

A split by slide must not leak, but a naive one starves classes that come from few slides
(Kather 2016's EMPTY comes from 2 of 10 slides). Each group goes whole to one subset; the
assignment minimises a cost that first asks every class to be present in every subset
(missing from train weighs most, then test, then validation), then each class's tile share
and each subset's size to be near the requested fractions. Greedy placement in a seeded
random order, then single-group moves and pair swaps while the cost falls: a local optimum,
so another seed can give another good split.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

#: Cost of a class missing from train, val, test (the balance terms are at most ~1 each).
MISSING_COST = (40.0, 10.0, 20.0)
MAX_SWAP_GROUPS = 200  # pair swaps are quadratic in the number of groups


class _Cost:
    """Cost of a subset x class table of tile counts (lower is better)."""

    def __init__(self, counts: NDArray[np.float64], fractions: Sequence[float]) -> None:
        totals = counts.sum(axis=0)
        frac = np.asarray(fractions, dtype=np.float64)
        self.scale = np.where(totals > 0, totals, 1.0)
        self.target = np.outer(frac, totals)
        self.size_target = frac * counts.sum()
        self.n = max(float(counts.sum()), 1.0)
        wanted = (frac > 0)[:, None] & (totals > 0)[None, :]
        self.missing_cost = wanted * np.asarray(MISSING_COST)[:, None]

    def __call__(self, sums: NDArray[np.float64]) -> float:
        balance = (((sums - self.target) / self.scale) ** 2).sum()
        size = (((sums.sum(axis=1) - self.size_target) / self.n) ** 2).sum()
        missing = (self.missing_cost * (sums == 0)).sum()
        return float(balance + size + missing)


def assign_groups(
    counts: NDArray[np.float64], fractions: Sequence[float], rng: random.Random
) -> list[int]:
    """Subset index (0 train, 1 val, 2 test) of each group; ``counts`` is groups x classes."""
    n_groups, n_sub = counts.shape[0], len(fractions)
    cost = _Cost(counts, fractions)
    sums = np.zeros((n_sub, counts.shape[1]))
    where = [0] * n_groups
    for g in rng.sample(range(n_groups), n_groups):
        trials = [cost(_moved(sums, counts[g], None, s)) for s in range(n_sub)]
        where[g] = int(np.argmin(trials))
        sums[where[g]] += counts[g]
    for _ in range(50):
        improved = _moves(sums, counts, where, cost, rng)
        if n_groups <= MAX_SWAP_GROUPS:
            improved = _swaps(sums, counts, where, cost) or improved
        if not improved:
            break
    return where


def _moved(
    sums: NDArray[np.float64], row: NDArray[np.float64], src: int | None, dst: int
) -> NDArray[np.float64]:
    out = sums.copy()
    if src is not None:
        out[src] -= row
    out[dst] += row
    return out


def _moves(
    sums: NDArray[np.float64],
    counts: NDArray[np.float64],
    where: list[int],
    cost: _Cost,
    rng: random.Random,
) -> bool:
    """Move single groups to the subset that lowers the cost most; True if any moved."""
    improved = False
    for g in rng.sample(range(len(where)), len(where)):
        current, src = cost(sums), where[g]
        best, best_cost = src, current
        for dst in range(sums.shape[0]):
            if dst != src:
                c = cost(_moved(sums, counts[g], src, dst))
                if c < best_cost - 1e-12:
                    best, best_cost = dst, c
        if best != src:
            sums[:] = _moved(sums, counts[g], src, best)
            where[g], improved = best, True
    return improved


def _swaps(
    sums: NDArray[np.float64], counts: NDArray[np.float64], where: list[int], cost: _Cost
) -> bool:
    """Exchange two groups of different subsets when that lowers the cost; True if any did."""
    improved = False
    for a in range(len(where)):
        for b in range(a + 1, len(where)):
            sa, sb = where[a], where[b]
            if sa == sb:
                continue
            trial = _moved(_moved(sums, counts[a], sa, sb), counts[b], sb, sa)
            if cost(trial) < cost(sums) - 1e-12:
                sums[:] = trial
                where[a], where[b], improved = sb, sa, True
    return improved
