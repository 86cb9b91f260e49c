"""Render each step's (and each reset's) frame inside the env, before any autoreset.

Vector envs (SB3's and Gymnasium's) reset a finished sub-env before control returns
to the main process, so a frame rendered afterwards shows the new episode. Wrapping
each sub-env in :class:`FrameInInfo` renders right after ``step`` -- in the worker
process for ``SubprocVecEnv`` -- and carries the frame out in ``info["frame"]``, where
the reward wrappers collect a whole step's frames for one batched model call. The reset
info carries the first frame too (the anchor of a frame window, Φ(s₀) for shaping); the
wrappers take it out of the infos they pass on.
"""

from __future__ import annotations

import gymnasium as gym

FRAME_KEY = "frame"


class FrameInInfo(gym.Wrapper):
    """Adds ``info["frame"]`` (uint8 H×W×3, the state after the step or reset) to every step
    and reset.

    Args:
        env: An env made with ``render_mode="rgb_array"``.

    Raises:
        ValueError: the env does not render ``rgb_array`` frames.

    Example:
        >>> env = FrameInInfo(gym.make("Pusher-v5", render_mode="rgb_array", width=224, height=224))
        >>> obs, r, term, trunc, info = env.step(env.action_space.sample())
        >>> info["frame"].shape
        (224, 224, 3)
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        if env.render_mode != "rgb_array":
            raise ValueError(
                f"reward model needs frames but {env.spec.id if env.spec else env} has render_mode="
                f"{env.render_mode!r}; make it with render_mode='rgb_array'"
            )

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        info[FRAME_KEY] = self.env.render()
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        info = dict(info)
        info[FRAME_KEY] = self.env.render()
        return obs, info
