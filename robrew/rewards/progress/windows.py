"""Causal frame windows for progress models, and the rewind augmentation.

A window of ``W`` frames for time ``t`` is the episode's first frame (the anchor), evenly
spaced past frames, and frame ``t`` itself: nothing from the future, so the same model
runs online in RL. Rewind: play frames ``0..t`` and then back ``t-1, ..., t-k``; the
window is taken over that made-up clip and the label is the progress of frame ``t-k`` —
the model learns that undoing work lowers progress even when the history looked good.

Example:
    >>> causal_window_indices(10, 4)
    array([ 0,  3,  7, 10])
    >>> rewind_window_indices(6, 2, 4)   # clip 0..6 then 5, 4: positions 0, 3, 5, 8
    array([0, 3, 5, 4])
"""

from __future__ import annotations

import numpy as np


def causal_window_indices(t: int, window: int) -> np.ndarray:
    """Frame indices of the window for time ``t``: anchor 0, evenly spaced past, ``t``."""
    if window < 1 or t < 0:
        raise ValueError(f"need window >= 1 and t >= 0, got window={window}, t={t}")
    if window == 1:
        return np.array([t])
    return np.round(np.linspace(0, t, window)).astype(np.int64)


def rewind_window_indices(t: int, k: int, window: int) -> np.ndarray:
    """Window over the clip ``0..t, t-1, ..., t-k`` (``0 <= k <= t``), as real frame indices;
    its last entry is the current frame ``t - k``."""
    if not 0 <= k <= t:
        raise ValueError(f"rewind needs 0 <= k <= t, got k={k}, t={t}")
    positions = causal_window_indices(t + k, window)
    return np.where(positions <= t, positions, 2 * t - positions)


def episode_windows(x: np.ndarray, window: int) -> np.ndarray:
    """(T, ...) per-frame inputs -> (T, window, ...) causal windows, one per frame."""
    idx = np.stack([causal_window_indices(t, window) for t in range(len(x))])
    return np.asarray(x)[idx]
