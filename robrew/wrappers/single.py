"""Reward-model wrapper for a single Gymnasium env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from robrew.rewards.base import RewardModel
from robrew.wrappers.compose import RewardComposition


class RewardModelWrapper(gym.Wrapper):
    """Scores every step with a reward model and composes it with the env reward.

    ``info["env_reward"]`` and ``info["model_reward"]`` are always set. Frames come from
    ``env.render()`` right after the step (a single env never autoresets); the
    instruction from ``info["instruction"]`` when the env provides one.

    Args:
        env: The env; made with ``render_mode="rgb_array"`` if the model needs frames.
        model: Any :class:`RewardModel`.
        composition: How to combine with the env reward (default: replace it).

    Example:
        >>> env = RewardModelWrapper(gym.make("Pusher-v5", render_mode="rgb_array"), make_reward("frame_mean"))
    """

    def __init__(self, env: gym.Env, model: RewardModel, composition: RewardComposition | None = None):
        super().__init__(env)
        if model.needs_frames and env.render_mode != "rgb_array":
            raise ValueError(
                f"reward model {model.name!r} needs frames but the env has render_mode={env.render_mode!r}; "
                "make it with render_mode='rgb_array'"
            )
        self.model = model
        if getattr(model, "window", 1) > 1:
            raise ValueError(
                f"{type(self).__name__} scores one frame at a time; reward model {model.name!r} needs a window of "
                f"{model.window} frames per step: use VecRewardModelWrapper (SB3), which keeps each env's history"
            )
        self.composition = composition or RewardComposition()

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        frames = self.env.render()[None] if self.model.needs_frames else None
        obs_batch = np.asarray(obs, dtype=np.float32)[None] if self.model.needs_obs else None
        instruction = info.get("instruction")
        model_reward = float(self.model.score(frames=frames, obs=obs_batch, instructions=instruction)[0])
        info = dict(info, env_reward=float(reward), model_reward=model_reward)
        return obs, float(self.composition(reward, model_reward)), terminated, truncated, info
