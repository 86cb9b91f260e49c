"""Input normalisation statistics for models trained on demonstration observations.

Demonstrations cover a narrow slice of the state space: a scripted reach expert never moves
its fingers, a push expert never lifts a block. Dividing such a feature by its (near-zero)
demo standard deviation turns a tiny change off the demo distribution (a random policy's
half-open fingers, a block nudged a millimetre) into an input of thousands of standard
deviations, and the model's output becomes arbitrary exactly where RL explores. So:
features that barely vary in the demos are ignored (scale 0: the demos say nothing about
them), and the model clips what it keeps to a few standard deviations.

Example:
    >>> mean, std = obs_statistics(np.array([[0.0, 1.0], [2.0, 1.0]], np.float32))
    >>> std.tolist()
    [1.0, inf]
"""

from __future__ import annotations

import numpy as np

#: A feature whose std is below this fraction of the median std over features is ignored.
MIN_RELATIVE_STD = 0.1
#: Normalised inputs are clipped to +-this many standard deviations.
CLIP_STD = 5.0


def obs_statistics(obs: np.ndarray, min_relative_std: float = MIN_RELATIVE_STD) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std of (N, D) observations; ``inf`` std marks an ignored feature.

    Args:
        obs: Training observations, one row per step.
        min_relative_std: Features with std below this times the median std are ignored.

    Returns:
        (mean, std), float32 (D,) each. ``(x - mean) / std`` is 0 for ignored features.
    """
    obs = np.asarray(obs, dtype=np.float64)
    if obs.ndim != 2 or len(obs) == 0:
        raise ValueError(f"obs_statistics takes a non-empty (N, D) array, got shape {obs.shape}")
    if not np.all(np.isfinite(obs)):
        bad = sorted(set(np.argwhere(~np.isfinite(obs))[:, 1].tolist()))
        raise ValueError(f"observations contain NaN/inf in features {bad[:10]}; check the demonstrations")
    mean, std = obs.mean(0), obs.std(0)
    floor = max(min_relative_std * float(np.median(std)), 1e-8)
    std = np.where(std < floor, np.inf, std)
    return mean.astype(np.float32), std.astype(np.float32)


def normalize_obs(obs, mean, std, clip: float = CLIP_STD):
    """Standardises and clips model inputs.

    Args:
        obs: (..., D) torch tensor of raw observations.
        mean: (D,) tensor from :func:`obs_statistics`.
        std: (D,) tensor from :func:`obs_statistics` (``inf`` for ignored features).
        clip: Bound on the result, in standard deviations.

    Returns:
        ``clamp((obs - mean) / std, -clip, clip)``, same shape as ``obs``; 0 for ignored features.
    """
    return ((obs - mean) / std).clamp(-clip, clip)


def parse_ranges(text: str, width: int) -> np.ndarray:
    """``"start:stop[,start:stop...]"`` (Python slices over the observation's values) -> a boolean
    mask of length ``width``. Raises ``ValueError`` (one line) on a malformed or empty selection.

    Example:
        >>> parse_ranges("0:22", 348).sum()     # Humanoid-v5: root height, orientation, joint angles
        22
    """
    mask = np.zeros(width, dtype=bool)
    for part in str(text).split(","):
        try:
            start, stop = (int(v) if v.strip() else None for v in part.split(":"))
        except ValueError:
            raise ValueError(f"observation range {part!r}: write start:stop, e.g. 0:22") from None
        mask[slice(start, stop)] = True
    if not mask.any():
        raise ValueError(f"observation ranges {text!r} select none of the {width} observation values")
    return mask


def keep_only(std: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``std`` with every feature outside ``mask`` ignored (``inf``: normalised to 0)."""
    return np.where(mask, std, np.inf).astype(np.float32)
