"""robrew's MuJoCo environments, registered with Gymnasium under the ``robrew/`` namespace.

This module is the one place envs are registered; importing it has no other side
effect (besides defaulting ``MUJOCO_GL`` to ``egl`` via ``import robrew``).

Example:
    >>> import gymnasium as gym, robrew.envs
    >>> env = gym.make("robrew/HumanoidPose-v0", pose="kneeling", render_mode="rgb_array")
"""

from __future__ import annotations

import gymnasium as gym

#: env id -> entry point; every id here is covered by the conformance tests.
ENV_IDS: dict[str, str] = {
    "robrew/HumanoidPose-v0": "robrew.envs.humanoid_pose:HumanoidPoseEnv",
    "robrew/CartPole-v0": "robrew.envs.cartpole:CartPoleEnv",
    "robrew/TabletopReach-v0": "robrew.envs.tabletop.env:TabletopEnv",
    "robrew/TabletopPush-v0": "robrew.envs.tabletop.env:TabletopEnv",
    "robrew/TabletopPickPlace-v0": "robrew.envs.tabletop.env:TabletopEnv",
    "robrew/TabletopStack-v0": "robrew.envs.tabletop.env:TabletopEnv",
    "robrew/TabletopReachGoal-v0": "robrew.envs.tabletop.goal_env:TabletopReachGoalEnv",
}

_DEFAULT_KWARGS: dict[str, dict] = {
    "robrew/TabletopReach-v0": {"task": "reach", "horizon": 50},
    "robrew/TabletopPush-v0": {"task": "push", "horizon": 100},
    "robrew/TabletopPickPlace-v0": {"task": "pick_place", "horizon": 120},
    "robrew/TabletopStack-v0": {"task": "stack", "horizon": 120},
}


def _register() -> None:
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # The envs truncate themselves at their own horizon, so no TimeLimit here.
            gym.register(env_id, entry_point=entry_point, kwargs=_DEFAULT_KWARGS.get(env_id, {}))


_register()
