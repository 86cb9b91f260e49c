"""Pieces for diagnosing RL runs on the tabletop tasks: a ground-truth potential to compare a
learned one against, and a VecEnv wrapper that turns off bootstrapping at time limits.

Example:
    >>> phi = OraclePotential("push")                       # Φ from the true positions
    >>> venv = VecRewardModelWrapper(venv, phi, RewardComposition("potential", model_weight=10))
    >>> venv = NoTimeoutBootstrap(venv)                     # time limits end episodes for the critic
"""

from __future__ import annotations

import torch
from stable_baselines3.common.vec_env import VecEnvWrapper

from robrew.envs.tabletop.env import GOAL_OBS
from robrew.envs.tabletop.task_defs import PUSH_STANDOFF
from robrew.rewards.base import RewardModel


class OraclePotential(RewardModel):
    """Ground-truth distance potential read from tabletop ``obs="goal"`` observations (diagnostics only):

    - reach: Φ = -|grip - block|
    - push:  Φ = -0.5 |grip - behind point| - 2 |block - pad|_xy   (behind = where a push starts)
    """

    name = "oracle_potential"
    needs_frames = False
    needs_obs = True

    def __init__(self, task: str):
        super().__init__()
        if task not in ("reach", "push"):
            raise ValueError(f"OraclePotential knows reach and push, not {task!r}")
        self.task = task

    def forward(self, frames=None, obs: torch.Tensor | None = None, instructions=None) -> torch.Tensor:
        grip, block, pad = obs[:, GOAL_OBS["grip"]], obs[:, GOAL_OBS["block"]], obs[:, GOAL_OBS["pad"]]
        if self.task == "reach":
            return -(grip - block).norm(dim=1)
        direction = pad - block[:, :2]
        direction = direction / (direction.norm(dim=1, keepdim=True) + 1e-9)
        behind = torch.cat([block[:, :2] - PUSH_STANDOFF * direction, block[:, 2:]], dim=1)
        return -0.5 * (grip - behind).norm(dim=1) - 2.0 * (block[:, :2] - pad).norm(dim=1)


class NoTimeoutBootstrap(VecEnvWrapper):
    """Reports time-limit truncations as plain episode ends, so SB3 does not bootstrap there
    (to test whether bootstrapping at the time limit is what a shaped run depends on)."""

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        for info in infos:
            info.pop("TimeLimit.truncated", None)
        return obs, rewards, dones, infos
