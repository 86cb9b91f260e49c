"""Tiny deterministic envs for testing reward plumbing and config checks.

``robrew-testing/NoRender-v0`` and ``robrew-testing/SuccessKey-v0`` are registered on import (use
``robrew.testing:robrew-testing/NoRender-v0`` in a task file); nothing here is part of the
user-facing env registry.

``FrameCounterEnv(length, tag)``: episode of ``length`` steps; observation ``[t, tag]``;
env reward ``t``; the frame after step ``t`` is filled with the value ``code(tag, t)``,
so a frame-mean reward says exactly which env and which step it scored.

Example:
    >>> env = FrameCounterEnv(length=3, tag=2)
    >>> env.reset(seed=0); _ = env.step(0)
    >>> int(env.render()[0, 0, 0]) == FrameCounterEnv.code(2, 1)
    True
"""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class FrameCounterEnv(gym.Env):
    """See the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, length: int = 4, tag: int = 0, size: int = 8, render_mode: str | None = "rgb_array"):
        self.length, self.tag, self.size = int(length), int(tag), int(size)
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1000.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.t = 0
        self.egl_device = os.environ.get("MUJOCO_EGL_DEVICE_ID")  # which GPU this process renders on
        self.pid = os.getpid()

    @staticmethod
    def code(tag: int, t: int) -> int:
        """Pixel value of env ``tag``'s frame after step ``t`` (t = 0 is the reset frame)."""
        return (tag * 50 + t * 3 + 1) % 256

    def _obs(self) -> np.ndarray:
        return np.array([self.t, self.tag], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {"tag": self.tag}

    def step(self, action):
        self.t += 1
        terminated = self.t >= self.length
        return self._obs(), float(self.t), terminated, False, {"tag": self.tag, "t": self.t, "is_success": terminated}

    def render(self):
        return np.full((self.size, self.size, 3), self.code(self.tag, self.t), dtype=np.uint8)


class NoRenderEnv(FrameCounterEnv):
    """A FrameCounterEnv that cannot render (for config checks of frame-based rewards)."""

    metadata = {"render_modes": [], "render_fps": 30}

    def __init__(self, length: int = 4, tag: int = 0, render_mode: str | None = None):
        super().__init__(length=length, tag=tag, render_mode=None)


class SuccessKeyEnv(gym.Env):
    """An outside-suite-like env (Meta-World's convention): success only as ``info["success"]``
    (a float, 1.0 from step ``succeed_at`` on), never ``info["is_success"]``, no instruction, and a
    frame whose top-left pixel is bright (so a flip or rotation shows where it went)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, succeed_at: int = 2, render_mode: str | None = None):
        self.succeed_at, self.render_mode, self.t = int(succeed_at), render_mode, 0
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(3, np.float32), {"success": 0.0}

    def step(self, action):
        self.t += 1
        obs = np.array([self.t / 100.0, *np.clip(action, -1, 1)], np.float32)
        return obs, 0.0, False, False, {"success": float(self.t >= self.succeed_at)}

    def render(self):
        frame = np.zeros((6, 8, 3), np.uint8)
        frame[0, 0] = 255
        return frame


for _id, _entry in (("robrew-testing/NoRender-v0", NoRenderEnv), ("robrew-testing/SuccessKey-v0", SuccessKeyEnv)):
    if _id not in gym.registry:
        gym.register(_id, entry_point=_entry)


def make_counter_env(index: int, frames: bool = True) -> gym.Env:
    """Env ``index`` of a test vector: episode length ``3 + index``, tag ``index``,
    wrapped in ``FrameInInfo`` when ``frames`` (picklable for subprocess workers)."""
    from robrew.wrappers.frames import FrameInInfo

    env = FrameCounterEnv(length=3 + index, tag=index)
    return FrameInInfo(env) if frames else env
