"""Residual RL on a behaviour-cloned policy: the learner's action corrects a frozen base policy.

``ResidualAction(env, base, scale)`` steps ``env`` with ``clip(base(obs) + scale · a, -1, 1)``
where ``a`` is the learner's action in [-1, 1] and ``base`` a :class:`~robrew.bc_policy.BCPolicy`
(e.g. ``robrew-rabc``'s RA-BC policy, loaded bit-exactly from its safetensors) acting through
its temporal-ensembling actor, reset with the env. A learner that outputs 0 *is* the base
policy, so fine-tuning starts from the base policy's success rate instead of from scratch, and
``scale`` bounds how far RL can take it from the demonstrations (Residual RL, Johannink et al.
2019; Policy Decorator, Yuan et al. 2024). ``penalty`` > 0 subtracts ``penalty · mean(a²)`` from
the env reward, so a correction has to earn its keep. ``info["base_action"]`` is the base
policy's action.

Example:
    >>> env = ResidualAction(make_env("tabletop_pick_place"), load_policy("runs/rabc/policies/rabc"), scale=0.3)
    >>> obs, info = env.reset(seed=0)
    >>> obs, r, term, trunc, info = env.step(np.zeros(4, np.float32))   # exactly the RA-BC action
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from robrew.bc_policy import BCPolicy


class ResidualAction(gym.Wrapper):
    """See the module docstring.

    Args:
        env: An env with a Box action space in [-1, 1] (the base policy's range).
        base: The frozen base policy.
        scale: Largest correction per action dimension, in action units (0 < scale <= 2).
        decay: The base actor's temporal-ensembling decay.
        penalty: Weight of the correction's cost ``mean(a²)`` in the env reward (0: none).

    Raises:
        ValueError: a bad ``scale``, or a base policy whose action size does not fit the env.
    """

    def __init__(self, env: gym.Env, base: BCPolicy, scale: float = 0.3, decay: float = 0.3, penalty: float = 0.0):
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, gym.spaces.Box) or space.shape != (base.act_dim,):
            raise ValueError(
                f"the base policy acts in {base.act_dim} dimensions but the env's action space is {space}; "
                "use a policy trained on this task's demonstrations"
            )
        if not 0.0 < scale <= 2.0:
            raise ValueError(f"residual scale must be in (0, 2], got {scale}")
        if penalty < 0:
            raise ValueError(f"residual penalty must be >= 0, got {penalty}")
        self.base, self.scale, self.penalty = base, float(scale), float(penalty)
        self.actor = base.actor(decay)
        self._obs = None

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.actor.reset()
        self._obs = obs
        return obs, info

    def base_action(self) -> np.ndarray:
        """The base policy's action for the current observation (advances its ensembling state)."""
        return np.asarray(self.actor(self._obs), np.float32)

    def step(self, action):
        base = self.base_action()
        correction = np.asarray(action, np.float32)
        combined = np.clip(base + self.scale * correction, -1.0, 1.0)
        obs, reward, terminated, truncated, info = self.env.step(combined)
        self._obs = obs
        cost = self.penalty * float(np.mean(correction**2))
        return obs, float(reward) - cost, terminated, truncated, {**info, "base_action": base, "residual_cost": cost}
