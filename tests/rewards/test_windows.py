"""Causal frame windows and rewind: exact indices, a windowed progress model trained with
rewind, and the SB3 wrapper's per-env history giving the same rewards as offline scoring."""

from functools import partial

import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from robrew.rewards.progress import ProgressReward
from robrew.rewards.progress.windows import causal_window_indices, episode_windows, rewind_window_indices
from robrew.testing import FrameCounterEnv
from robrew.wrappers import RewardModelWrapper, VecRewardModelWrapper
from robrew.wrappers.history import EpisodeHistory


def test_window_indices_exact():
    np.testing.assert_array_equal(causal_window_indices(10, 4), [0, 3, 7, 10])
    np.testing.assert_array_equal(causal_window_indices(0, 3), [0, 0, 0])
    np.testing.assert_array_equal(causal_window_indices(5, 1), [5])
    # clip 0..6 then 5, 4 (k = 2): 9 positions, window positions 0, 3, 5, 8 -> frames 0, 3, 5, 4
    np.testing.assert_array_equal(rewind_window_indices(6, 2, 4), [0, 3, 5, 4])
    assert rewind_window_indices(6, 6, 3)[-1] == 0
    with pytest.raises(ValueError):
        rewind_window_indices(3, 4, 2)
    w = episode_windows(np.arange(5)[:, None], 3)
    assert w.shape == (5, 3, 1) and w[4, :, 0].tolist() == [0, 2, 4] and w[1, :, 0].tolist() == [0, 0, 1]


def test_history_matches_offline_windows():
    hist = EpisodeHistory(n_envs=1, window=3)
    seq = np.arange(6, dtype=np.float32)[:, None]
    hist.start(0, seq[0])
    online = [hist.push(seq[t][None])[0] for t in range(1, 6)]
    np.testing.assert_array_equal(np.stack(online), episode_windows(seq, 3)[1:])


def test_sb3_wrapper_scores_windows_like_score_episode():
    model = ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=2, text="none", window=3)
    venv = VecRewardModelWrapper(
        DummyVecEnv([partial(FrameCounterEnv, length=5, tag=i, render_mode=None) for i in range(2)]), model
    )
    venv.reset()
    rewards = [venv.step(np.zeros(2, dtype=np.int64))[1][1] for _ in range(8)]  # env 1, across the autoreset at step 5
    episode = np.array([[t, 1] for t in range(6)], np.float32)  # obs [t, tag]: the same episode offline
    offline = model.score_episode(obs=episode)[1:]
    np.testing.assert_allclose(rewards[:5], offline, rtol=1e-5)
    np.testing.assert_allclose(rewards[5:], offline[:3], rtol=1e-5)  # the history restarted with the new episode
    single = RewardModelWrapper(FrameCounterEnv(length=5, tag=1, render_mode=None), model)  # the same in one env
    single.reset(seed=0)
    np.testing.assert_allclose([single.step(0)[1] for _ in range(5)], offline, rtol=1e-5)
