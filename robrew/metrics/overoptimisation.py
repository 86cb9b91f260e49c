"""Watch for reward over-optimisation: the proxy (model) reward keeps rising while the
ground-truth success falls. Used during training (one clear warning); reports draw both
curves (:func:`robrew.eval.media.plot_proxy_vs_success`).

Example:
    >>> is_overoptimising([1.0, 2.0, 3.0, 4.0], [0.6, 0.5, 0.3, 0.2], window=4)
    True
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


class OverOptimisationWatch:
    """Feed it (proxy, success) after each evaluation; it warns once, clearly."""

    def __init__(self, window: int = 4, min_drop: float = 0.1):
        self.window, self.min_drop = int(window), float(min_drop)
        self.proxy: list[float] = []
        self.success: list[float] = []
        self.warned_at: int | None = None

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
        return hit
