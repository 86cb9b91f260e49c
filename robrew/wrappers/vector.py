"""Reward models in Gymnasium 1.x vector envs, honouring ``autoreset_mode``.

- ``NEXT_STEP`` (Gymnasium's default): the step after an episode ends is a reset step
  (reward 0, the new episode's first observation). It is not scored: its model reward
  and composed reward are 0 and ``info["_model_reward"]`` is False there.
- ``SAME_STEP``: the env resets within the step that ended the episode; the terminal
  frame, observation and instruction are read from ``info["final_info"]`` /
  ``info["final_obs"]``.
- ``DISABLED``: every step is scored; you reset envs yourself.

Sub-envs must be wrapped in :class:`~robrew.wrappers.frames.FrameInInfo` when the model
needs frames, so the frame is rendered before any reset.

Example:
    >>> envs = gym.vector.SyncVectorEnv([lambda: FrameInInfo(gym.make("Pusher-v5", render_mode="rgb_array"))] * 4)
    >>> envs = VectorRewardModelWrapper(envs, make_reward("frame_mean"))
"""

from __future__ import annotations

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from robrew.rewards.base import RewardModel
from robrew.wrappers.compose import RewardComposition
from robrew.wrappers.frames import FRAME_KEY


def _autoreset_mode(env: VectorEnv) -> AutoresetMode:
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    return AutoresetMode(mode) if not isinstance(mode, AutoresetMode) else mode


class VectorRewardModelWrapper(VectorWrapper):
    """Scores all sub-envs of a step in one model call; composes with the env reward.

    Adds ``info["env_reward"]`` and ``info["model_reward"]`` (arrays, with ``_``-masks
    that are False on unscored reset steps).

    Args:
        env: A Gymnasium vector env.
        model: Any :class:`RewardModel`.
        composition: How to combine with the env reward (default: replace it).
        use_instructions: Pass ``info["instruction"]`` (when present) to the model.
    """

    def __init__(
        self,
        env: VectorEnv,
        model: RewardModel,
        composition: RewardComposition | None = None,
        use_instructions: bool = True,
    ):
        super().__init__(env)
        self.model = model
        if getattr(model, "window", 1) > 1:
            raise ValueError(
                f"{type(self).__name__} scores one frame at a time; reward model {model.name!r} needs a window of "
                f"{model.window} frames per step: use VecRewardModelWrapper (SB3), which keeps each env's history"
            )
        self.composition = composition or RewardComposition()
        self.use_instructions = use_instructions
        self.autoreset_mode = _autoreset_mode(env)
        self._pending_reset = np.zeros(self.num_envs, dtype=bool)

    def reset(self, *, seed=None, options=None):
        self._pending_reset[:] = False
        return self.env.reset(seed=seed, options=options)

    def _row_source(self, info: dict, done: np.ndarray) -> list[dict | None]:
        """For each env, the info dict (top level or final_info) that holds its scored step."""
        final = info.get("final_info", {})
        same_step = self.autoreset_mode == AutoresetMode.SAME_STEP
        return [final if same_step and done[i] else info for i in range(self.num_envs)]

    def _column(self, sources: list[dict], key: str, rows: np.ndarray) -> list | None:
        values = []
        for i in rows:
            src = sources[i]
            mask = src.get(f"_{key}")
            if key not in src or (mask is not None and not mask[i]):
                return None
            values.append(src[key][i])
        return values

    def step(self, actions):
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        done = np.logical_or(terminated, truncated)
        scored = ~self._pending_reset if self.autoreset_mode == AutoresetMode.NEXT_STEP else np.ones_like(done)
        self._pending_reset = done.copy()
        rows = np.flatnonzero(scored)
        sources = self._row_source(info, done)

        model_reward = np.zeros(self.num_envs, dtype=np.float32)
        if rows.size:
            frames = None
            if self.model.needs_frames:
                frames = self._column(sources, FRAME_KEY, rows)
                if frames is None:
                    raise RuntimeError(
                        f"reward model {self.model.name!r} needs frames, but a sub-env's info has none; "
                        "wrap each sub-env in robrew.wrappers.FrameInInfo"
                    )
                frames = np.stack(frames)
            model_obs = None
            if self.model.needs_obs:
                final_obs = info.get("final_obs")
                model_obs = np.stack(
                    [final_obs[i] if sources[i] is not info else obs[i] for i in rows]
                ).astype(np.float32)
            instructions = self._column(sources, "instruction", rows) if self.use_instructions else None
            model_reward[rows] = self.model.score(frames=frames, obs=model_obs, instructions=instructions)

        composed = np.where(scored, self.composition(rewards, model_reward), 0.0)
        for src in {id(s): s for s in sources}.values():  # frames are spent: do not carry them on
            src.pop(FRAME_KEY, None)
            src.pop(f"_{FRAME_KEY}", None)
        info["env_reward"], info["_env_reward"] = np.asarray(rewards, dtype=np.float64), scored
        info["model_reward"], info["_model_reward"] = model_reward, scored
        return obs, composed, terminated, truncated, info
