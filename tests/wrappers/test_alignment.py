"""Rewards line up with the right env and step: terminal frames are scored, reset steps
are not. Uses FrameCounterEnv, whose frame after step t of env i has pixel value code(i, t),
and the frame_mean model, whose reward is that value."""

from functools import partial

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from robrew.rewards.simple import FrameMeanReward
from robrew.testing import FrameCounterEnv, make_counter_env
from robrew.wrappers import RewardComposition, RewardModelWrapper, VecRewardModelWrapper, VectorRewardModelWrapper

STEPS = 13


class CountingModel(FrameMeanReward):
    def __init__(self):
        super().__init__(scale=1.0)
        self.calls = 0

    def forward(self, frames, obs=None, instructions=None):
        self.calls += 1
        return super().forward(frames, obs, instructions)


def expected_t(i: int, step: int) -> int:
    """Step counter of env i after `step` (0-based) SB3-style steps (reset in the same step)."""
    return step % (3 + i) + 1


@pytest.mark.parametrize("n_envs", [1, 4])
@pytest.mark.parametrize("vec_cls", [DummyVecEnv, SubprocVecEnv])
def test_sb3_vec_wrapper(n_envs, vec_cls):
    model = CountingModel()
    venv = VecRewardModelWrapper(vec_cls([partial(make_counter_env, i) for i in range(n_envs)]), model)
    venv.reset()
    try:
        for step in range(STEPS):
            obs, rewards, dones, infos = venv.step(np.zeros(n_envs, dtype=int))
            for i in range(n_envs):
                t = expected_t(i, step)
                assert dones[i] == (t == 3 + i)
                # On done the obs is already the next episode's; the reward is for the terminal frame.
                assert rewards[i] == FrameCounterEnv.code(i, t), (step, i)
                assert infos[i]["model_reward"] == rewards[i]
                assert infos[i]["env_reward"] == t
                assert "frame" not in infos[i]
                if dones[i]:
                    assert obs[i][0] == 0 and infos[i]["terminal_observation"][0] == t
        assert model.calls == STEPS  # one batched call per step, all envs together
    finally:
        venv.close()


@pytest.mark.parametrize("n_envs", [1, 4])
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_gymnasium_vector_wrapper(n_envs, mode):
    model = CountingModel()
    envs = SyncVectorEnv([partial(make_counter_env, i) for i in range(n_envs)], autoreset_mode=mode)
    envs = VectorRewardModelWrapper(envs, model, RewardComposition("add"))
    envs.reset(seed=0)
    t = np.zeros(n_envs, dtype=int)
    pending = np.zeros(n_envs, dtype=bool)
    calls = 0
    for _ in range(STEPS):
        calls += int(not pending.all())  # a step where every env resets needs no model call
        _, rewards, terminated, _, info = envs.step(np.zeros(n_envs, dtype=int))
        for i in range(n_envs):
            if mode == AutoresetMode.NEXT_STEP and pending[i]:  # a reset step: never scored
                assert not info["_model_reward"][i] and rewards[i] == 0 and info["model_reward"][i] == 0
                t[i], pending[i] = 0, False
                continue
            t[i] += 1
            assert info["_model_reward"][i]
            assert info["model_reward"][i] == FrameCounterEnv.code(i, t[i])  # terminal frame included
            assert rewards[i] == pytest.approx(t[i] + FrameCounterEnv.code(i, t[i]))  # env + model
            if terminated[i]:
                assert t[i] == 3 + i
                if mode == AutoresetMode.SAME_STEP:
                    t[i] = 0
                else:
                    pending[i] = True
        assert "frame" not in info
    assert model.calls == calls


def test_single_env_wrapper_and_compositions():
    base = partial(FrameCounterEnv, length=3, tag=1)
    for comp, expect in [
        (RewardComposition("replace"), lambda t: FrameCounterEnv.code(1, t)),
        (RewardComposition("add"), lambda t: t + FrameCounterEnv.code(1, t)),
        (RewardComposition("weighted", 2.0, 0.5), lambda t: 2 * t + 0.5 * FrameCounterEnv.code(1, t)),
    ]:
        env = RewardModelWrapper(base(), FrameMeanReward(scale=1.0), comp)
        env.reset(seed=0)
        for t in range(1, 4):
            _, r, term, _, info = env.step(0)
            assert r == pytest.approx(expect(t)) and info["env_reward"] == t
    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        RewardModelWrapper(gym.make("CartPole-v1"), FrameMeanReward())
    with pytest.raises(ValueError, match="reward composition"):
        RewardComposition("multiply")


def test_missing_frames_is_a_clear_error():
    venv = VecRewardModelWrapper(DummyVecEnv([partial(make_counter_env, 0, frames=False)]), FrameMeanReward())
    venv.reset()
    with pytest.raises(RuntimeError, match="FrameInInfo"):
        venv.step(np.zeros(1, dtype=int))
