"""Each SubprocVecEnv worker chooses its own EGL device before any GL context exists."""

import os
from functools import partial

import numpy as np
import pytest

from robrew.rewards.simple import FrameMeanReward
from robrew.testing import FrameCounterEnv
from robrew.wrappers.sb3 import make_scored_vec_env


def test_workers_get_their_render_device_round_robin():
    env_fn = partial(FrameCounterEnv, length=4, tag=0)
    before = os.environ.get("MUJOCO_EGL_DEVICE_ID")
    venv = make_scored_vec_env(env_fn, 3, FrameMeanReward(), subprocess=True, seed=0, render_devices=[0, 1])
    try:
        assert venv.get_attr("egl_device") == ["0", "1", "0"]
        pids = venv.get_attr("pid")
        assert len(set(pids)) == 3 and os.getpid() not in pids
        venv.reset()
        _, rewards, _, infos = venv.step(np.zeros(3, dtype=np.int64))
        expected = FrameCounterEnv.code(0, 1) / 255.0
        np.testing.assert_allclose(rewards, [expected] * 3, rtol=1e-6)  # frames still flow from the workers
        assert all("model_reward" in info for info in infos)
    finally:
        venv.close()
    assert os.environ.get("MUJOCO_EGL_DEVICE_ID") == before  # set in the workers only, never here


def test_render_devices_need_subprocesses():
    with pytest.raises(ValueError, match="subprocess=True"):
        make_scored_vec_env(partial(FrameCounterEnv), 2, FrameMeanReward(), render_devices=[0])
