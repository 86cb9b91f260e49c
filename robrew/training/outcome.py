"""Where a failed demonstration's failure becomes predictable, from episode-level success flags.

A small classifier learns P(the episode succeeds | observation) from every frame of the
training demos, each labelled with its episode's flag. Early frames of failed and successful
episodes look alike, so it answers about the base rate there; once a failed episode does
something successful ones never do (carry the object the wrong way), it answers near 0. The
departure is the first frame from which the (5-frame smoothed) probability stays below
``threshold`` for ``hold`` frames, after having been at least twice that: an episode the classifier
doubts from its first frame has not shown where it went wrong, and gets no departure from it.

Cross-fitted: the probability for an episode comes from a classifier trained on the other
folds only, so it cannot have memorised that episode (every frame of an episode shares its
goal, which a classifier would otherwise use to recognise the episode from frame 0). Gaussian
input noise and weight decay keep it from memorising the other episodes' goals as well.

Example:
    >>> departures = outcome_departures(demos, candidates=[i for i, d in enumerate(demos) if not d.success])
    >>> departures[i]  # frame index, or None where the failure never becomes clear
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from robrew.data.demos import Demo


@dataclass(frozen=True)
class OutcomeConfig:
    """Settings of the cross-fitted success classifier (defaults measured on Meta-World pick-place
    and tabletop pick-and-place: docs/results.md)."""

    folds: int = 4  # cross-fitting folds (fewer when there are fewer episodes of a class)
    steps: int = 300  # optimiser steps per fold
    batch_size: int = 256
    hidden: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-2
    input_noise: float = 0.5  # Gaussian noise on the standardised observations, in standard deviations
    threshold: float = 0.2  # P(success) below this ...
    hold: int = 10  # ... for this many frames in a row marks the departure


def outcome_probabilities(
    demos: list[Demo], candidates: list[int], cfg: OutcomeConfig = OutcomeConfig(), seed: int = 0
) -> dict[int, np.ndarray]:
    """P(success) per frame, float32 [T+1], for each demo index in ``candidates``, each from a
    classifier that never saw that demo. Observations must be flat arrays (``flat_demos``).
    Returns {} when there are not at least two successful and two failed demos."""
    flags = np.array([bool(d.success) for d in demos])
    folds = min(cfg.folds, int(flags.sum()), int((~flags).sum()))
    if folds < 2 or not candidates:
        return {}
    obs = [np.asarray(d.observations, dtype=np.float32) for d in demos]
    stacked = np.concatenate(obs)
    mean, std = stacked.mean(0), stacked.std(0) + 1e-3
    rng = np.random.default_rng(seed)
    # Stratified folds: each class spread evenly, so every fold's training set has both.
    fold = np.empty(len(demos), dtype=np.int64)
    for cls in (True, False):
        members = rng.permutation(np.flatnonzero(flags == cls))
        fold[members] = np.arange(len(members)) % folds
    out: dict[int, np.ndarray] = {}
    for k in range(folds):
        wanted = [i for i in candidates if fold[i] == k]
        if not wanted:
            continue
        train = np.flatnonzero(fold != k)
        x = torch.from_numpy((np.concatenate([obs[i] for i in train]) - mean) / std)
        y = torch.from_numpy(np.concatenate([np.full(len(obs[i]), float(flags[i]), np.float32) for i in train]))
        torch.manual_seed(seed * 1000 + k)
        width = cfg.hidden
        net = nn.Sequential(
            nn.Linear(x.shape[1], width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1)
        )
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        for _ in range(cfg.steps):
            idx = torch.from_numpy(rng.integers(0, len(x), size=min(cfg.batch_size, len(x))))
            xb = x[idx]
            xb = xb + cfg.input_noise * torch.randn_like(xb)
            loss = F.binary_cross_entropy_with_logits(net(xb).squeeze(-1), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            for i in wanted:
                out[i] = torch.sigmoid(net(torch.from_numpy((obs[i] - mean) / std))).squeeze(-1).numpy()
    return out


def smooth(p: np.ndarray, width: int = 5) -> np.ndarray:
    """Centred moving average of the same length; the ends are padded with the edge values (not
    pulled towards 0). Example: ``smooth(np.array([0, 0, 0, 5, 0, 0, 0.0]))`` -> ``[0, 1, 1, 1, 1, 1, 0]``."""
    half = width // 2
    return np.convolve(np.pad(p, half, mode="edge"), np.ones(width) / width, mode="valid")


def first_sustained_low(p: np.ndarray, threshold: float, hold: int) -> int | None:
    """First frame from which ``p`` (smoothed over 5 frames) stays below ``threshold`` for
    ``hold`` frames (or to the end, if fewer remain), having been at least ``2 * threshold`` at
    some frame before; None if it never does.

    Example:
        >>> first_sustained_low(np.array([0.6] * 5 + [0.0] * 20), 0.2, 10)
        6
        >>> first_sustained_low(np.array([0.3] * 5 + [0.0] * 20), 0.2, 10) is None  # never confident
        True
    """
    smoothed = smooth(p)
    low, seen_high = smoothed < threshold, np.maximum.accumulate(smoothed >= 2 * threshold)
    for t in np.flatnonzero(low & seen_high):
        if low[t : t + hold].all():
            return int(t)
    return None


def outcome_departures(
    demos: list[Demo], candidates: list[int], cfg: OutcomeConfig = OutcomeConfig(), seed: int = 0
) -> dict[int, int | None]:
    """Departure frame (or None) for each demo index in ``candidates`` (failed demos); {} when the
    demos do not have both outcomes often enough to learn from (see :func:`outcome_probabilities`)."""
    probs = outcome_probabilities(demos, candidates, cfg, seed)
    return {i: first_sustained_low(p, cfg.threshold, cfg.hold) for i, p in probs.items()}
