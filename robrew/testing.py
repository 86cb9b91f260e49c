"""Tiny deterministic envs for testing reward plumbing and config checks.

``robrew-testing/NoRender-v0`` is registered on import (use ``robrew.testing:robrew-testing/NoRender-v0``
in a task file); nothing here is part of the user-facing env registry.

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


if "robrew-testing/NoRender-v0" not in gym.registry:
    gym.register("robrew-testing/NoRender-v0", entry_point=NoRenderEnv)


def make_counter_env(index: int, frames: bool = True) -> gym.Env:
    """Env ``index`` of a test vector: episode length ``3 + index``, tag ``index``,
    wrapped in ``FrameInInfo`` when ``frames`` (picklable for subprocess workers)."""
    from robrew.wrappers.frames import FrameInInfo

    env = FrameCounterEnv(length=3 + index, tag=index)
    return FrameInInfo(env) if frames else env
