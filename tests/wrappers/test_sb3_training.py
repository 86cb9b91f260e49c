"""SB3 PPO trains through the reward wrappers: a stock Gymnasium env and a robrew env,
scored by a tiny CLIP loaded from disk; the callback logs model reward and true success."""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO

from robrew.rewards.clip import ClipReward
from robrew.wrappers import RewardComposition, RewardLoggingCallback, make_scored_vec_env


@pytest.fixture(scope="module")
def clip(tiny_clip_dir):
    return ClipReward(["a robot arm pushing an object"], ["a robot arm"], pretrained=str(tiny_clip_dir), alpha=0.5)


def ppo_two_rollouts(venv):
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
    cb = RewardLoggingCallback()
    model.learn(total_timesteps=2 * 16 * venv.num_envs, callback=cb)
    assert model.num_timesteps == 2 * 16 * venv.num_envs
    return cb


def test_ppo_on_stock_pusher(clip):
    venv = make_scored_vec_env(lambda: gym.make("Pusher-v5", render_mode="rgb_array", width=64, height=64), 2, clip)
    ppo_two_rollouts(venv)
    venv.close()


def test_ppo_on_robrew_env_logs_model_reward_and_success(clip):
    import robrew.envs  # noqa: F401

    # "module:id" makes each subprocess worker import the registry before making the env.
    env_fn = lambda: gym.make("robrew.envs:robrew/CartPole-v0", render_mode="rgb_array", width=48, height=48, horizon=8)  # noqa: E731
    venv = make_scored_vec_env(env_fn, 2, clip, RewardComposition("add"), subprocess=True)
    cb = ppo_two_rollouts(venv)
    venv.close()
    assert len(cb.episodes) == 8  # 64 steps / 8-step episodes
    model_sums, env_sums, success = np.array(cb.episodes).T
    assert np.all(np.isfinite(model_sums)) and np.all(env_sums >= 0) and set(success) <= {0.0, 1.0}
    assert np.all(np.abs(model_sums) > 0)


def test_works_on_stock_humanoid_without_changes(clip):
    from robrew.wrappers import RewardModelWrapper

    env = RewardModelWrapper(gym.make("Humanoid-v5", render_mode="rgb_array", width=48, height=48), clip)
    env.reset(seed=0)
    _, r, _, _, info = env.step(env.action_space.sample())
    assert r == info["model_reward"] and "env_reward" in info
