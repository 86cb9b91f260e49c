"""A goal-conditioned tabletop env in the layout SB3's ``MultiInputPolicy`` and HER expect.

``robrew/TabletopReachGoal-v0``: move the grip point to a target point drawn per episode.
Observation ``Dict(observation=(26,), achieved_goal=(3,), desired_goal=(3,))``: the tabletop
reach state, the grip point, the target. Reward :meth:`compute_reward` (vectorised, so HER can
relabel goals): 0 within ``distance_threshold`` of the target, else -1. ``info["is_success"]``
is the same criterion. The episode never terminates early; it is truncated at ``horizon``.

Example:
    >>> env = gym.make("robrew/TabletopReachGoal-v0")
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs), obs["desired_goal"].shape
    (['achieved_goal', 'desired_goal', 'observation'], (3,))
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from robrew.envs.tabletop import scene
from robrew.envs.tabletop.env import GOAL_OBS, TabletopEnv

#: Where targets are drawn: above the table, inside the reachable workspace.
GOAL_LOW = np.array([-0.2, -0.2, scene.TABLE_Z + 0.03], dtype=np.float32)
GOAL_HIGH = np.array([0.2, 0.2, scene.TABLE_Z + 0.2], dtype=np.float32)
INSTRUCTION = "move the gripper to the target point"
#: The scripted expert's two phases, and the env's ground-truth stages (aligned within ``ALIGNED`` m).
SUBTASKS = ("move above the target point", "move down to the target point")
ALIGNED = 0.02


class TabletopReachGoalEnv(TabletopEnv):
    """Goal-conditioned reach (see the module docstring).

    Args:
        distance_threshold: Success radius around the target, metres.
        horizon: Steps per episode.
        **kwargs: Passed to :class:`~robrew.envs.tabletop.env.TabletopEnv` (camera, size, render mode).
    """

    def __init__(self, distance_threshold: float = 0.05, horizon: int = 50, **kwargs):
        kwargs.pop("task", None)
        kwargs.pop("obs", None)
        super().__init__(task="reach", horizon=horizon, obs="goal", **kwargs)
        if distance_threshold <= 0:
            raise ValueError(f"distance_threshold must be positive, got {distance_threshold}")
        self.distance_threshold = float(distance_threshold)
        goal = spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
        self.observation_space = spaces.Dict(
            {"observation": self.observation_space, "achieved_goal": goal, "desired_goal": goal}
        )
        self.goal = (GOAL_LOW + GOAL_HIGH) / 2

    @property
    def subtasks(self) -> list[str]:
        return list(SUBTASKS)

    def compute_reward(self, achieved_goal, desired_goal, info) -> np.ndarray:
        """0 where ``achieved_goal`` is within the threshold of ``desired_goal``, else -1 (any batch shape)."""
        d = np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1)
        return -(d >= self.distance_threshold).astype(np.float32)

    def expert_target(self, wrong: bool = False) -> np.ndarray:
        """Where the scripted expert moves the grip point: the target, or with ``wrong`` a point
        15 cm beside it (a deliberate failure for mixed-quality demonstrations)."""
        if not wrong:
            return self.goal.copy()
        return self.goal - np.array([0.15 * np.sign(self.goal[0] or 1.0), 0.0, 0.0], dtype=np.float32)

    def _goal_obs(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "observation": flat,
            "achieved_goal": flat[GOAL_OBS["grip"]].astype(np.float32),
            "desired_goal": self.goal.astype(np.float32),
        }

    def _info(self, s) -> dict:  # the reach task's block stages do not apply: set by _goal_info
        return {"instruction": INSTRUCTION, "grasped": s.grasped}

    def _goal_info(self, info: dict, obs: dict) -> dict:
        offset = obs["achieved_goal"] - obs["desired_goal"]
        success = bool(np.linalg.norm(offset) < self.distance_threshold)
        stage = int(np.linalg.norm(offset[:2]) < ALIGNED)  # above the target (what the scripted expert does first)
        info = {k: v for k, v in info.items() if k != "reward_terms"}
        info.update(is_success=success, stage=stage, stage_name=SUBTASKS[stage])
        return info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        flat, info = super().reset(seed=seed, options=options)
        self.instruction = INSTRUCTION
        self.goal = self.np_random.uniform(GOAL_LOW, GOAL_HIGH).astype(np.float32)
        obs = self._goal_obs(flat)
        return obs, self._goal_info(info, obs)

    def step(self, action):
        flat, _, terminated, truncated, info = super().step(action)
        obs = self._goal_obs(flat)
        reward = float(self.compute_reward(obs["achieved_goal"], obs["desired_goal"], info))
        return obs, reward, terminated, truncated, self._goal_info(info, obs)
