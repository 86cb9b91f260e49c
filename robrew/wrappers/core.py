"""The one reward-scoring logic behind every adapter (single env, SB3 VecEnv, Gymnasium
vector env): per-env episode history for window models, Φ of each env's current state for
``potential`` / ``delta``, instructions, the success threshold, one batched model call.

An adapter only translates its env's step into two calls, with rows aligned to ``envs``:

- :meth:`RewardScorer.start` when episodes begin (the reset observation, the reset frame
  from ``info["frame"]`` or ``env.render()``, the reset info);
- :meth:`RewardScorer.step` for each scored step (the resulting state, the env reward and
  whether the episode *terminated*).

**Episode ends.** With ``potential``, Φ(s') is 0 when the episode *terminates* (nothing lies
beyond a terminal state), but on a time-limit *truncation* Φ(s_T) is kept: the episode did
not end in the MDP, and the learner bootstraps from V(s_T) there (SB3 does, through
``TimeLimit.truncated``), so the shaping term must not pretend it did. ``delta`` is the
plain gain Φ(s') - Φ(s) and ignores the flag.

**Broken renderers.** A run of ``CONSTANT_RUN`` identical frames of one colour from one env (black
frames: a Gymnasium MuJoCo renderer whose GL context another env closed in the same process)
stops scoring with :class:`ConstantFrameError` and one line naming the env, the cause and the fix
(``constant_frames="warn"``: a warning once per env instead). A single flat frame (a fade) does not.

Example:
    >>> scorer = RewardScorer(make_reward("frame_mean"), n_envs=2)
    >>> scorer.start([0, 1], obs=None, frames=np.zeros((2, 8, 8, 3), np.uint8), infos=[{}, {}])
    >>> scorer.step([0, 1], np.ones(2), obs=None, frames=np.full((2, 8, 8, 3), 255, np.uint8),
    ...             infos=[{}, {}], terminated=np.zeros(2, bool)).total
    array([1., 1.])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from robrew.rewards.base import RewardModel
from robrew.wrappers.compose import RewardComposition
from robrew.wrappers.history import EpisodeHistory

INSTRUCTION_KEY = "instruction"


CONSTANT_RUN = 8  # identical one-colour frames in a row from one env that mean a broken renderer


class ConstantFrameWarning(UserWarning):
    """An env keeps handing the reward model frames of one colour (``constant_frames="warn"``)."""


class ConstantFrameError(RuntimeError):
    """An env keeps handing the reward model frames of one colour (black frames from a broken renderer)."""


class ConstantFrames(StrEnum):
    """What a run of constant frames does: stop with one line (``error``) or warn once per env."""

    error = "error"
    warn = "warn"


def obs_rows(obs, rows) -> list:
    """Per-env observations ``rows`` of a batch: array rows, or one dict per row for Dict observations
    (``{key: (n, ...)}`` as SB3 and Gymnasium vector envs give them)."""
    if isinstance(obs, dict):
        return [{k: v[i] for k, v in obs.items()} for i in rows]
    return [obs[i] for i in rows]


@dataclass(frozen=True)
class StepScores:
    """What :meth:`RewardScorer.step` returns, one row per scored env.

    Attributes:
        total: float64 composed reward (what the learner sees).
        model: float32 model output for the resulting state (Φ(s') for potential/delta).
        success: bool ``model >= success_threshold``, or None when no threshold is set.
    """

    total: np.ndarray
    model: np.ndarray
    success: np.ndarray | None


class RewardScorer:
    """Scores steps of ``n_envs`` envs with one reward model and one composition.

    Args:
        model: Any :class:`~robrew.rewards.base.RewardModel` (window models included).
        n_envs: Number of envs the adapter drives (1 for a single env).
        composition: How to combine with the env reward (default: replace it).
        use_instructions: Pass ``info["instruction"]`` to the model when every scored row has one.
        success_threshold: If set, :attr:`StepScores.success` says whether the model's value
            of the resulting state reaches it (adapters put it in ``info["model_success"]``).
        constant_frames: ``"error"`` (stop) or ``"warn"`` when an env hands over
            :data:`CONSTANT_RUN` frames of one colour in a row.
    """

    def __init__(
        self,
        model: RewardModel,
        n_envs: int,
        composition: RewardComposition | None = None,
        use_instructions: bool = True,
        success_threshold: float | None = None,
        constant_frames: ConstantFrames | str = ConstantFrames.error,
    ):
        self.model = model
        self.constant_frames = ConstantFrames(constant_frames)
        self._constant_run = np.zeros(int(n_envs), dtype=np.int64)  # identical flat frames in a row, per env
        self._constant_value = np.full(int(n_envs), -1, dtype=np.int64)
        self.n_envs = int(n_envs)
        self.composition = composition or RewardComposition()
        self.use_instructions = bool(use_instructions)
        self.success_threshold = None if success_threshold is None else float(success_threshold)
        self.window = int(getattr(model, "window", 1))
        self._histories = {
            kind: EpisodeHistory(self.n_envs, self.window)
            for kind, needed in (("frames", model.needs_frames), ("obs", model.needs_obs))
            if needed and self.window > 1
        }
        self._phi = np.zeros(self.n_envs, dtype=np.float64)
        self._warned_constant: set[int] = set()

    @property
    def needs_start_inputs(self) -> bool:
        """Whether :meth:`start` needs the reset state's inputs (for Φ(s₀) or a window anchor).
        Adapters render a reset frame only then."""
        return self.composition.stateful or self.window > 1

    def start(self, envs: Sequence[int], obs, frames, infos: Sequence[dict]) -> None:
        """Episodes begin in ``envs``: ``obs`` / ``frames`` are their reset inputs (rows aligned
        with ``envs``; ``None`` where the model does not read that kind), ``infos`` their reset infos."""
        envs = list(envs)
        if not envs or not self.needs_start_inputs:
            return
        inputs = self._inputs(obs, frames, envs, "reset")
        for kind, hist in self._histories.items():
            for i, x in zip(envs, inputs[kind]):
                hist.start(i, x)
        if self.composition.stateful:
            self._phi[envs] = self._score(envs, inputs, infos, push=False).astype(np.float64)

    def step(self, envs: Sequence[int], env_reward, obs, frames, infos: Sequence[dict], terminated) -> StepScores:
        """Scores one step of ``envs`` (rows aligned with ``envs``): the resulting state's
        ``obs`` / ``frames`` (the terminal ones on an episode end), the env reward and the
        *termination* flags (not truncation)."""
        envs = list(envs)
        env_reward = np.asarray(env_reward, dtype=np.float64).reshape(len(envs))
        model_reward = self._score(envs, self._inputs(obs, frames, envs, "step"), infos, push=True)
        if self.composition.stateful:
            terminated = np.asarray(terminated, dtype=bool).reshape(len(envs))
            total = self.composition.shaped(env_reward, self._phi[envs], model_reward, terminated)
            self._phi[envs] = model_reward
        else:
            total = self.composition(env_reward, model_reward)
        success = None if self.success_threshold is None else model_reward >= self.success_threshold
        return StepScores(np.asarray(total, dtype=np.float64), model_reward, success)

    # -- internals ---------------------------------------------------------------------------

    def _inputs(self, obs, frames, envs: list[int], when: str) -> dict[str, np.ndarray | None]:
        """Validated model inputs: ``{"frames": uint8 (n,H,W,3) | None, "obs": float32 (n,D) | None}``."""
        n = len(envs)
        out: dict[str, np.ndarray | None] = {"frames": None, "obs": None}
        if self.model.needs_frames:
            if frames is None:
                raise RuntimeError(
                    f"reward model {self.model.name!r} needs frames, but the env gave none at {when}; wrap each "
                    "(sub-)env in robrew.wrappers.FrameInInfo (make_scored_vec_env does) and make it with "
                    "render_mode='rgb_array'"
                )
            out["frames"] = np.asarray(frames)
        if self.model.needs_obs:
            if obs is None:
                raise RuntimeError(
                    f"reward model {self.model.name!r} needs observations, but none were given at {when}"
                )
            # Dict observations become one vector per env through the model's obs_keys (or a clear error).
            out["obs"] = np.asarray(self.model.flatten_obs(obs), dtype=np.float32).reshape(n, -1)
        self._check_frames(out["frames"], envs)
        return out

    def _check_frames(self, frames: np.ndarray | None, envs: list[int]) -> None:
        """Counts each env's identical one-colour frames in a row; at :data:`CONSTANT_RUN` it stops
        (or warns once per env)."""
        if frames is None or frames.ndim != 4 or frames.dtype != np.uint8:
            return
        flat = frames.reshape(len(frames), -1)
        constant = flat.min(axis=1) == flat.max(axis=1)
        rows = np.asarray(envs)
        value = flat[:, 0].astype(np.int64)
        same = constant & (value == self._constant_value[rows])  # the same flat frame again
        self._constant_run[rows] = np.where(same, self._constant_run[rows] + 1, constant.astype(np.int64))
        self._constant_value[rows] = np.where(constant, value, -1)
        for row in np.flatnonzero(self._constant_run[rows] == CONSTANT_RUN):
            env = int(envs[row])
            message = (
                f"env {env} handed reward model {self.model.name!r} {CONSTANT_RUN} identical frames in a row of one "
                f"colour (value {int(flat[row, 0])}): its renderer is likely broken (Gymnasium MuJoCo envs render "
                "black once another env of theirs was closed in the same process); give each env its own process "
                "(subprocess=True) or keep the other env open; constant_frames='warn' scores them anyway"
            )
            if self.constant_frames == ConstantFrames.error:
                raise ConstantFrameError(message)
            if env not in self._warned_constant:
                self._warned_constant.add(env)
                warnings.warn(message, ConstantFrameWarning, stacklevel=4)

    def _score(self, envs: list[int], inputs: dict, infos: Sequence[dict], push: bool) -> np.ndarray:
        """One model call for ``envs``; window models see each env's causal window ending now."""
        for kind, hist in self._histories.items():
            inputs[kind] = hist.push(inputs[kind], envs) if push else hist.current(envs)
        return self.model.score(frames=inputs["frames"], obs=inputs["obs"], instructions=self._instructions(infos))

    def _instructions(self, infos: Sequence[dict]) -> list[str] | None:
        if self.use_instructions and infos and all(INSTRUCTION_KEY in info for info in infos):
            return [info[INSTRUCTION_KEY] for info in infos]
        return None
