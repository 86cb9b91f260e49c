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
from robrew.wrappers.core import INSTRUCTION_KEY, RewardScorer, obs_rows
from robrew.wrappers.frames import FRAME_KEY


def _autoreset_mode(env: VectorEnv) -> AutoresetMode:
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    return AutoresetMode(mode) if not isinstance(mode, AutoresetMode) else mode


class VectorRewardModelWrapper(VectorWrapper):
    """Scores all sub-envs of a step in one model call; composes with the env reward
    (the scoring is :class:`~robrew.wrappers.core.RewardScorer`, shared by all adapters).

    Adds ``info["env_reward"]`` and ``info["model_reward"]`` (arrays, with ``_``-masks
    that are False on unscored reset steps), and ``info["model_success"]`` when
    ``success_threshold`` is set. New episodes start from their reset observation and the
    reset frame (:class:`FrameInInfo` puts it in the reset info): Φ(s₀) for
    ``potential`` / ``delta``, the anchor of a window model's frames.

    Args:
        env: A Gymnasium vector env.
        model: Any :class:`RewardModel` (window models included).
        composition: How to combine with the env reward (default: replace it).
        use_instructions: Pass ``info["instruction"]`` (when present) to the model.
        success_threshold: If set, ``info["model_success"]`` says whether the model's value
            of the resulting state reaches it.
        constant_frames: ``"error"`` (default: stop with one line) or ``"warn"`` when an env
            hands over a run of frames of one colour (a broken renderer; see ``robrew.wrappers.core``).
    """

    def __init__(
        self,
        env: VectorEnv,
        model: RewardModel,
        composition: RewardComposition | None = None,
        use_instructions: bool = True,
        success_threshold: float | None = None,
        constant_frames: str = "error",
    ):
        super().__init__(env)
        self.model = model
        self.scorer = RewardScorer(
            model, self.num_envs, composition, use_instructions, success_threshold, constant_frames
        )
        self.composition = self.scorer.composition
        self.autoreset_mode = _autoreset_mode(env)
        self._pending_reset = np.zeros(self.num_envs, dtype=bool)

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        mask = (options or {}).get("reset_mask")
        envs = np.flatnonzero(mask) if mask is not None else np.arange(self.num_envs)
        self._pending_reset[envs] = False
        self._start(envs, obs, [info] * self.num_envs)
        _drop_frames(info)
        return obs, info

    def _inputs(self, envs, obs, sources: list[dict], rows_given: bool = False):
        """Rows of ``envs``: observations, frames and per-row infos (instruction) from each row's info source
        (``obs`` is the batch, or with ``rows_given`` already a per-env list)."""
        model_obs = None
        if self.model.needs_obs:
            model_obs = [obs[i] for i in envs] if rows_given else obs_rows(obs, envs)
        frames = None
        if self.model.needs_frames:
            frames = [_value(sources[i], FRAME_KEY, i) for i in envs]
            frames = np.stack(frames) if all(f is not None for f in frames) else None
        row_infos = []
        for i in envs:
            ins = _value(sources[i], INSTRUCTION_KEY, i)
            row_infos.append({} if ins is None else {INSTRUCTION_KEY: ins})
        return model_obs, frames, row_infos

    def _start(self, envs, obs, sources: list[dict]) -> None:
        if len(envs) and self.scorer.needs_start_inputs:
            model_obs, frames, row_infos = self._inputs(envs, obs, sources)
            self.scorer.start(list(envs), model_obs, frames, row_infos)

    def step(self, actions):
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        done = np.logical_or(terminated, truncated)
        n = self.num_envs
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            scored, starting = ~self._pending_reset, self._pending_reset.copy()
            self._pending_reset = done.copy()
        elif self.autoreset_mode == AutoresetMode.SAME_STEP:
            scored, starting = np.ones(n, dtype=bool), done
        else:  # DISABLED: the user resets through reset(options={"reset_mask": ...})
            scored, starting = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)

        # A SAME_STEP episode end: the scored step lives in final_info / final_obs, the top level is the reset.
        same_step_end = done & (self.autoreset_mode == AutoresetMode.SAME_STEP)
        final_info, final_obs = info.get("final_info", {}), info.get("final_obs")
        sources = [final_info if same_step_end[i] else info for i in range(n)]
        now = obs_rows(obs, range(n))
        step_obs = [final_obs[i] if same_step_end[i] else now[i] for i in range(n)]

        total = np.zeros(n, dtype=np.float64)
        model_reward = np.zeros(n, dtype=np.float32)
        success = np.zeros(n, dtype=bool)
        rows = np.flatnonzero(scored)
        if rows.size:
            model_obs, frames, row_infos = self._inputs(rows, step_obs, sources, rows_given=True)
            s = self.scorer.step(
                rows.tolist(), np.asarray(rewards)[rows], model_obs, frames, row_infos, np.asarray(terminated)[rows]
            )
            total[rows], model_reward[rows] = s.total, s.model
            if s.success is not None:
                success[rows] = s.success
        self._start(np.flatnonzero(starting), obs, [info] * n)  # new episodes: reset obs and info at top level

        _drop_frames(info)
        _drop_frames(final_info)
        info["env_reward"], info["_env_reward"] = np.asarray(rewards, dtype=np.float64), scored
        info["model_reward"], info["_model_reward"] = model_reward, scored
        if self.scorer.success_threshold is not None:
            info["model_success"], info["_model_success"] = success, scored
        return obs, total, terminated, truncated, info


def _value(src: dict, key: str, i: int):
    """Env ``i``'s entry of a vector info dict, or None where it has none (masked out)."""
    mask = src.get(f"_{key}")
    if key not in src or (mask is not None and not mask[i]):
        return None
    return src[key][i]


def _drop_frames(info: dict) -> None:
    """Frames are spent once scored: do not carry them on in the infos."""
    info.pop(FRAME_KEY, None)
    info.pop(f"_{FRAME_KEY}", None)
