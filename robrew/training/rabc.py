"""Reward-aligned behaviour cloning (RA-BC) weights.

For a sample at step t of an episode with predicted progress φ, and the policy's action
chunk Δ: r = φ(o_{min(t+Δ, T-1)}) - φ(o_t). Over the dataset: μ = max(mean r, 0), σ = std r;
w̃ = clip((r - (μ - 2σ)) / (4σ + ε), 0, 1); w = 1 if r > κ, w̃ if 0 ≤ r ≤ κ, 0 if r < 0.
Samples whose progress φ(o_t) is already at least ``complete_at`` get w = 1: no gain is possible
once the task is done, and holding the result is what a good demo does there (measured on
Meta-World pick-place: without it, RA-BC dropped most post-success frames of the successful demos,
62% success against 79% with it, over 3 training seeds; docs/history.md).
The loss is Σ wᵢ ℓᵢ / Σ wᵢ. A mean weight near 1 means RA-BC has become plain BC.

A failed episode's steps from its progress peak on (:func:`failure_tails`) can be given w = 0:
whatever follows the point where a failure stopped advancing led nowhere, yet where its
progress reads flat (a demonstrator hovering over a block it put down in the wrong place,
progress already fallen to 0) the ramp above gives it about half weight, and the cloned policy
learns to stop dead in such states: on pick-and-place most of its failures were that stall,
gripper open over a block it had not picked up (docs/results.md).

Example:
    >>> w = rabc_weights(np.array([-0.1, 0.0, 0.05, 0.3]), kappa=0.2)
    >>> w = rabc_weights(deltas, kappa=0.01, progress=phi, complete_at=0.95)  # completed frames: 1
    >>> tails = failure_tails([np.array([0.1, 0.5, 0.3, 0.3])], [False])   # [array([False, True, True])]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def progress_deltas(progress: Sequence[np.ndarray], chunk: int) -> list[np.ndarray]:
    """Per episode, r_t = φ(min(t + chunk, T - 1)) - φ(t)."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    out = []
    for p in progress:
        p = np.asarray(p, dtype=np.float64)
        ahead = np.minimum(np.arange(len(p)) + chunk, len(p) - 1)
        out.append(p[ahead] - p)
    return out


def failure_tails(progress: Sequence[np.ndarray], success: Sequence[bool]) -> list[np.ndarray]:
    """Per episode, bool (T - 1,) over its actions: True from the frame where a failed episode's
    progress φ (T frames) peaks (its first maximum) on; all False for a successful episode.

    Raises:
        ValueError: ``progress`` and ``success`` differ in length.
    """
    if len(progress) != len(success):
        raise ValueError(f"{len(progress)} progress curves for {len(success)} success flags")
    out = []
    for p, ok in zip(progress, success):
        steps = np.arange(len(p) - 1)
        out.append(np.zeros(len(steps), bool) if ok else steps >= int(np.argmax(p)))
    return out


def rabc_weights(
    deltas: np.ndarray,
    kappa: float,
    eps: float = 1e-6,
    progress: np.ndarray | None = None,
    complete_at: float | None = None,
) -> np.ndarray:
    """RA-BC weights for progress deltas pooled over the dataset (see module docstring);
    ``progress`` (φ at each sample, same shape) and ``complete_at`` give completed samples weight 1."""
    r = np.asarray(deltas, dtype=np.float64)
    mu = max(float(r.mean()), 0.0)
    sigma = float(r.std())
    soft = np.clip((r - (mu - 2.0 * sigma)) / (4.0 * sigma + eps), 0.0, 1.0)
    w = np.where(r > kappa, 1.0, np.where(r >= 0.0, soft, 0.0))
    if progress is not None and complete_at is not None:
        phi = np.asarray(progress, dtype=np.float64)
        if phi.shape != r.shape:
            raise ValueError(f"progress has shape {phi.shape}, deltas {r.shape}: one progress value per delta")
        w = np.where(phi >= complete_at, 1.0, w)
    return w


def weighted_loss(losses: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ wᵢ ℓᵢ / Σ wᵢ (0 when every weight is 0)."""
    total = weights.sum()
    return (weights * losses).sum() / total.clamp_min(1e-12)
