"""How a model reward combines with the env reward."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robrew.rewards.factory import Composition

COMPOSE_MODES = tuple(m.value for m in Composition)
#: Modes that need the model's value of the previous state (kept per env by the wrapper).
STATEFUL_MODES = ("potential", "delta")


@dataclass(frozen=True)
class RewardComposition:
    """``replace``: the model reward alone; ``add``: env + model;
    ``weighted``: ``env_weight * env + model_weight * model``.

    With the model's output as a potential Φ (e.g. predicted progress):
    ``potential``: ``env_weight * env + model_weight * (γ Φ(s') - Φ(s))``, policy-invariant
    shaping (Ng et al. 1999) with ``gamma`` = the learner's γ and Φ(terminal) = 0;
    ``delta``: ``model_weight * (Φ(s') - Φ(s))``, progress gain as the reward.
    These two need Φ(s) of the previous state: :meth:`shaped` takes it, the wrappers keep it
    (:mod:`robrew.wrappers.core`). Episode ends: Φ(s') = 0 when the episode *terminates*; on a
    time-limit *truncation* Φ(s_T) is kept, since the learner bootstraps from V(s_T) there.

    Example:
        >>> RewardComposition("weighted", env_weight=0.5, model_weight=2.0)(np.ones(2), np.ones(2))
        array([2.5, 2.5])
    """

    mode: str = "replace"
    env_weight: float = 1.0
    model_weight: float = 1.0
    gamma: float = 0.99

    def __post_init__(self):
        if self.mode not in COMPOSE_MODES:
            raise ValueError(f"reward composition must be one of {COMPOSE_MODES}, got {self.mode!r}")
        object.__setattr__(self, "mode", str(Composition(self.mode)))
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")

    @property
    def stateful(self) -> bool:
        """Whether the reward depends on the previous state's model value."""
        return self.mode in STATEFUL_MODES

    def shaped(
        self, env_reward: np.ndarray, phi_prev: np.ndarray, phi_next: np.ndarray, terminated: np.ndarray
    ) -> np.ndarray:
        """The ``potential`` / ``delta`` reward from Φ(s), Φ(s') and the termination flags."""
        env_reward = np.asarray(env_reward, dtype=np.float64)
        if self.mode == "potential":
            phi_next = np.where(terminated, 0.0, phi_next)  # no potential beyond a terminal state
            return self.env_weight * env_reward + self.model_weight * (self.gamma * phi_next - phi_prev)
        if self.mode == "delta":
            return self.model_weight * (np.asarray(phi_next, np.float64) - phi_prev)
        raise ValueError(f"shaped() is for {STATEFUL_MODES}, not {self.mode!r}")

    def __call__(self, env_reward: np.ndarray, model_reward: np.ndarray) -> np.ndarray:
        if self.stateful:
            raise ValueError(f"composition {self.mode!r} needs the previous state's value: use shaped()")
        if self.mode == "replace":
            return np.asarray(model_reward, dtype=np.float64)
        if self.mode == "add":
            return np.asarray(env_reward, dtype=np.float64) + model_reward
        return self.env_weight * np.asarray(env_reward, dtype=np.float64) + self.model_weight * model_reward
