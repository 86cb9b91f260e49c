"""Watch for reward over-optimisation: the proxy (model) reward keeps rising while the
ground-truth success falls, or the two stop moving together (their Spearman rank correlation
across evaluations turns negative). Used during training (one clear warning each); reports
draw both curves (:func:`robrew.eval.media.plot_proxy_vs_success`).

Example:
    >>> is_overoptimising([1.0, 2.0, 3.0, 4.0], [0.6, 0.5, 0.3, 0.2], window=4)
    True
    >>> rank_correlation([1.0, 2.0, 3.0, 4.0], [0.1, 0.2, 0.2, 0.5])
    0.9486832980505138
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np


class OverOptimisationWarning(UserWarning):
    """The proxy reward rises while ground-truth success falls."""


def _slope(y: np.ndarray) -> float:
    x = np.arange(len(y), dtype=np.float64)
    return float(np.polyfit(x, y, 1)[0])


def is_overoptimising(proxy: Sequence[float], success: Sequence[float], window: int = 4, min_drop: float = 0.1) -> bool:
    """Over the last ``window`` evaluations: the proxy's trend is up, success's trend is
    down, and success fell by at least ``min_drop`` from its best in the window."""
    if window < 3:
        raise ValueError(f"window must be >= 3 evaluation points, got {window}")
    p, s = np.asarray(proxy, np.float64)[-window:], np.asarray(success, np.float64)[-window:]
    if len(p) < window or len(s) < window or not (np.all(np.isfinite(p)) and np.all(np.isfinite(s))):
        return False
    return bool(_slope(p) > 0 and _slope(s) < 0 and s.max() - s[-1] >= min_drop)


def rank_correlation(proxy: Sequence[float], success: Sequence[float]) -> float:
    """Spearman rank correlation of model return and ground-truth success across evaluations;
    NaN with fewer than 3 finite pairs or when either is constant (nothing to rank)."""
    p, s = np.asarray(proxy, np.float64), np.asarray(success, np.float64)
    ok = np.isfinite(p) & np.isfinite(s)
    p, s = p[ok], s[ok]
    if len(p) < 3 or np.ptp(p) == 0 or np.ptp(s) == 0:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(p, s).statistic)


class OverOptimisationWatch:
    """Feed it (proxy, success) after each evaluation; it warns once, clearly."""

    def __init__(self, window: int = 4, min_drop: float = 0.1, min_points: int = 4):
        self.window, self.min_drop, self.min_points = int(window), float(min_drop), int(min_points)
        self.proxy: list[float] = []
        self.success: list[float] = []
        self.warned_at: int | None = None
        self.decorrelated_at: int | None = None

    @property
    def spearman(self) -> float:
        """Rank correlation of model return and success over every evaluation so far (see :func:`rank_correlation`)."""
        return rank_correlation(self.proxy, self.success)

    def update(self, timesteps: int, proxy: float, success: float) -> bool:
        """Records one evaluation; returns True (and warns, the first time) on over-optimisation."""
        self.proxy.append(float(proxy))
        self.success.append(float(success))
        hit = is_overoptimising(self.proxy, self.success, self.window, self.min_drop)
        if hit and self.warned_at is None:
            self.warned_at = int(timesteps)
            warnings.warn(
                f"reward over-optimisation at {timesteps} steps: over the last {self.window} evaluations the model "
                f"reward rose ({self.proxy[-self.window]:.3g} -> {self.proxy[-1]:.3g}) while ground-truth success fell "
                f"({max(self.success[-self.window :]):.0%} -> {self.success[-1]:.0%}). The policy is "
                "exploiting the reward "
                "model: stop early, use an ensemble (mode=min or uncertainty), or fix the reward.",
                OverOptimisationWarning,
                stacklevel=2,
            )
        rho = self.spearman
        if len(self.proxy) >= self.min_points and rho < 0 and self.decorrelated_at is None:
            self.decorrelated_at = int(timesteps)
            warnings.warn(
                f"model reward and ground-truth success no longer rise together at {timesteps} steps: their "
                f"Spearman correlation over {len(self.proxy)} evaluations is {rho:.2f}. Higher model return is not "
                "buying success: the reward model is being exploited or is wrong where the policy now goes.",
                OverOptimisationWarning,
                stacklevel=2,
            )
        return hit
