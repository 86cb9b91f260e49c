"""Diagnostic pieces moved out of the scripts: the oracle potential reads the true positions,
HoldClosed keeps the fingers closed, NoTimeoutBootstrap hides time-limit truncations."""

from functools import partial

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from robrew.envs.tabletop.task_defs import push_behind_point
from robrew.envs.tabletop.wrappers import HoldClosed
from robrew.testing import FrameCounterEnv
from robrew.training.diagnostics import NoTimeoutBootstrap, OraclePotential


@pytest.mark.parametrize("task", ["reach", "push"])
def test_oracle_potential_is_the_true_distance(task):
    env = gym.make(f"robrew/Tabletop{task.title()}-v0")
    obs, _ = env.reset(seed=3)
    obs, *_ = env.step(env.action_space.sample())
    s = env.unwrapped.scene_state()
    if task == "reach":
        expected = -np.linalg.norm(s.grip - s.block)
    else:
        expected = -0.5 * np.linalg.norm(s.grip - push_behind_point(s)) - 2.0 * np.linalg.norm(s.block[:2] - s.pads[0])
    assert OraclePotential(task).score(obs=obs[None])[0] == pytest.approx(expected, abs=1e-5)
    with pytest.raises(ValueError, match="reach and push"):
        OraclePotential("stack")
    env.close()


def test_hold_closed_and_no_timeout_bootstrap():
    env = HoldClosed(gym.make("robrew/TabletopPush-v0"))
    assert env.action(np.array([0.1, 0.2, 0.3, -1.0]))[3] == 1.0
    env.close()
    venv = NoTimeoutBootstrap(
        DummyVecEnv([partial(gym.wrappers.TimeLimit, FrameCounterEnv(length=10, render_mode=None), 2)])
    )
    venv.reset()
    venv.step(np.zeros(1, int))
    _, _, dones, infos = venv.step(np.zeros(1, int))
    assert dones[0] and "TimeLimit.truncated" not in infos[0]
