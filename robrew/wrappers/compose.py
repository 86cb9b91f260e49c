"""How a model reward combines with the env reward."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPOSE_MODES = ("replace", "add", "weighted")


@dataclass(frozen=True)
class RewardComposition:
    """``replace``: the model reward alone; ``add``: env + model;
    ``weighted``: ``env_weight * env + model_weight * model``.

    Example:
        >>> RewardComposition("weighted", env_weight=0.5, model_weight=2.0)(np.ones(2), np.ones(2))
        array([2.5, 2.5])
    """

    mode: str = "replace"
    env_weight: float = 1.0
    model_weight: float = 1.0

    def __post_init__(self):
        if self.mode not in COMPOSE_MODES:
            raise ValueError(f"reward composition must be one of {COMPOSE_MODES}, got {self.mode!r}")

    def __call__(self, env_reward: np.ndarray, model_reward: np.ndarray) -> np.ndarray:
        if self.mode == "replace":
            return np.asarray(model_reward, dtype=np.float64)
        if self.mode == "add":
            return np.asarray(env_reward, dtype=np.float64) + model_reward
        return self.env_weight * np.asarray(env_reward, dtype=np.float64) + self.model_weight * model_reward
