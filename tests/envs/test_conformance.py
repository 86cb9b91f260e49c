"""Every registered env passes Gymnasium's and SB3's checkers, renders, and is deterministic."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from robrew.envs import ENV_IDS


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_checkers_pass(env_id):
    env = gym.make(env_id, render_mode="rgb_array", width=64, height=48)
    gym_check_env(env.unwrapped, skip_render_check=False)
    sb3_check_env(env.unwrapped, warn=False)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert frame.std() > 1.0, "frame is blank"
    env.close()


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_same_seed_same_trajectory(env_id):
    def rollout(seed):
        env = gym.make(env_id)
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        traj = [obs]
        for _ in range(15):
            obs, reward, *_ = env.step(env.action_space.sample())
            traj += [obs, np.array([reward])]
        flat = [np.concatenate([np.ravel(v) for v in x.values()]) if isinstance(x, dict) else x for x in traj]
        return np.concatenate([np.ravel(x) for x in flat])

    a, b, c = rollout(3), rollout(3), rollout(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_fixed_horizon_no_early_termination(env_id):
    env = gym.make(env_id, horizon=7)
    env.reset(seed=0)
    for t in range(7):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        assert not terminated
        assert truncated == (t == 6)
        assert "is_success" in info
