"""Reward-model adapter for a single Gymnasium env (the scoring is :mod:`robrew.wrappers.core`)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from robrew.rewards.base import RewardModel
from robrew.wrappers.compose import RewardComposition
from robrew.wrappers.core import RewardScorer
from robrew.wrappers.frames import FRAME_KEY


class RewardModelWrapper(gym.Wrapper):
    """Scores every step with a reward model and composes it with the env reward.

    ``info["env_reward"]`` and ``info["model_reward"]`` are always set, ``info["model_success"]``
    when ``success_threshold`` is. Frames come from ``info["frame"]`` (:class:`FrameInInfo`)
    or ``env.render()`` right after the step (a single env never autoresets); the
    instruction from ``info["instruction"]`` when the env provides one. Every composition
    (``potential`` / ``delta`` too: Φ(s₀) is scored at reset) and window models work here,
    exactly as in the vector adapters.

    Args:
        env: The env; made with ``render_mode="rgb_array"`` if the model needs frames.
        model: Any :class:`RewardModel`.
        composition: How to combine with the env reward (default: replace it).
        use_instructions: Pass ``info["instruction"]`` (when present) to the model.
        success_threshold: If set, ``info["model_success"]`` says whether the model's value
            of the resulting state reaches it.
        constant_frames: ``"error"`` (default: stop with one line) or ``"warn"`` when an env
            hands over a run of frames of one colour (a broken renderer; see ``robrew.wrappers.core``).

    Example:
        >>> env = RewardModelWrapper(gym.make("Pusher-v5", render_mode="rgb_array"), make_reward("frame_mean"))
    """

    def __init__(
        self,
        env: gym.Env,
        model: RewardModel,
        composition: RewardComposition | None = None,
        use_instructions: bool = True,
        success_threshold: float | None = None,
        constant_frames: str = "error",
    ):
        super().__init__(env)
        if model.needs_frames and env.render_mode != "rgb_array":
            raise ValueError(
                f"reward model {model.name!r} needs frames but the env has render_mode={env.render_mode!r}; "
                "make it with render_mode='rgb_array'"
            )
        self.model = model
        self.scorer = RewardScorer(model, 1, composition, use_instructions, success_threshold, constant_frames)
        self.composition = self.scorer.composition

    def _frame(self, info: dict, needed: bool) -> np.ndarray | None:
        frame = info.pop(FRAME_KEY, None)
        if not (needed and self.model.needs_frames):
            return None
        return (frame if frame is not None else self.env.render())[None]

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        info = dict(info)
        frames = self._frame(info, self.scorer.needs_start_inputs)
        self.scorer.start([0], obs=[obs] if self.model.needs_obs else None, frames=frames, infos=[info])
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        frames = self._frame(info, True)
        s = self.scorer.step([0], [reward], [obs] if self.model.needs_obs else None, frames, [info], [terminated])
        info["env_reward"], info["model_reward"] = float(reward), float(s.model[0])
        if s.success is not None:
            info["model_success"] = bool(s.success[0])
        return obs, float(s.total[0]), terminated, truncated, info
