"""Reward models in Stable-Baselines3: a VecEnv wrapper, a helper to build the stack,
and a callback that logs model reward next to ground-truth success.

The sub-envs render inside their own step (:class:`FrameInInfo`, in the worker process
for ``SubprocVecEnv``); the wrapper, in the main process, scores all envs of a step in
one model call. On an episode end SB3 has already reset the sub-env: the scored frame is
still the terminal one (it was rendered before the reset) and the scored observation is
``info["terminal_observation"]``.

Stack order matters: Monitor (inside ``make_vec_env``) sees the *env* reward, so its
``rollout/ep_rew_mean`` is the env's; put this wrapper *inside* ``VecNormalize``.

Example:
    >>> venv = make_scored_vec_env(lambda: gym.make("Pusher-v5", render_mode="rgb_array"), 4, model)
    >>> PPO("MlpPolicy", venv).learn(10_000, callback=RewardLoggingCallback())
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecEnvWrapper

from robrew.rewards.base import RewardModel
from robrew.wrappers.compose import RewardComposition
from robrew.wrappers.core import RewardScorer, obs_rows
from robrew.wrappers.frames import FRAME_KEY, FrameInInfo


class VecRewardModelWrapper(VecEnvWrapper):
    """Replaces (or combines) a VecEnv's rewards with a reward model's, one call per step
    (the scoring is :class:`~robrew.wrappers.core.RewardScorer`, shared by all adapters).

    Args:
        venv: VecEnv whose sub-envs are wrapped in :class:`FrameInInfo` if the model needs frames.
        model: Any :class:`RewardModel` (window models included).
        composition: How to combine with the env reward (default: replace it).
        use_instructions: Pass ``info["instruction"]`` (when present) to the model.
        success_threshold: If set, ``info["model_success"]`` says whether the model's
            value (e.g. predicted progress) of the step's resulting state reaches it.
        constant_frames: ``"error"`` (default: stop with one line) or ``"warn"`` when an env
            hands over a run of frames of one colour (a broken renderer; see ``robrew.wrappers.core``).

    New episodes (the first reset and every autoreset) start from the reset observation and
    the reset frame that :class:`FrameInInfo` puts in SB3's ``reset_infos``: Φ(s₀) for
    ``potential`` / ``delta``, the anchor of a window model's frames. A step that ends an
    episode is scored on its terminal state (``info["terminal_observation"]``, the frame
    rendered before the reset); ``TimeLimit.truncated`` says truncation from termination.
    """

    def __init__(
        self,
        venv: VecEnv,
        model: RewardModel,
        composition: RewardComposition | None = None,
        use_instructions: bool = True,
        success_threshold: float | None = None,
        constant_frames: str = "error",
    ):
        super().__init__(venv)
        self.model = model
        self.scorer = RewardScorer(
            model, self.num_envs, composition, use_instructions, success_threshold, constant_frames
        )
        self.composition = self.scorer.composition

    def _start_episodes(self, envs: list[int], obs) -> None:
        """Episodes begin in ``envs`` (their first observations ``obs``, reset infos in ``venv.reset_infos``)."""
        reset_infos = list(getattr(self.venv, "reset_infos", None) or [{}] * self.num_envs)
        infos = [reset_infos[i] for i in envs]
        frames = [info.pop(FRAME_KEY, None) for info in infos]  # spent here: not carried on
        if not self.scorer.needs_start_inputs:
            return
        frames = np.stack(frames) if self.model.needs_frames and all(f is not None for f in frames) else None
        self.scorer.start(envs, obs_rows(obs, range(len(envs))) if self.model.needs_obs else None, frames, infos)

    def reset(self):
        obs = self.venv.reset()
        self._start_episodes(list(range(self.num_envs)), obs)
        return obs

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        frames = [info.pop(FRAME_KEY, None) for info in infos]  # spent here: not carried on
        frames = np.stack(frames) if self.model.needs_frames and all(f is not None for f in frames) else None
        model_obs = None
        if self.model.needs_obs:
            rows = obs_rows(obs, range(self.num_envs))
            model_obs = [info["terminal_observation"] if done else o for o, done, info in zip(rows, dones, infos)]
        terminated = [d and not info.get("TimeLimit.truncated", False) for d, info in zip(dones, infos)]
        s = self.scorer.step(range(self.num_envs), rewards, model_obs, frames, infos, terminated)
        if dones.any():  # autoreset: the new episodes' first states (their own instructions, Φ, history)
            idx = np.flatnonzero(dones).tolist()
            self._start_episodes(idx, obs_rows(obs, idx) if self.model.needs_obs else None)
        for i, (info, r_env) in enumerate(zip(infos, rewards)):
            info["env_reward"], info["model_reward"] = float(r_env), float(s.model[i])
            if s.success is not None:
                info["model_success"] = bool(s.success[i])
        return obs, s.total.astype(np.float32), dones, infos


def make_scored_vec_env(
    env_fn: Callable[[], gym.Env],
    n_envs: int,
    model: RewardModel,
    composition: RewardComposition | None = None,
    subprocess: bool = False,
    seed: int | None = None,
    render_devices: Sequence[int] | None = None,
    success_threshold: float | None = None,
    constant_frames: str = "error",
) -> VecRewardModelWrapper:
    """Builds env_fn x n_envs -> Monitor -> FrameInInfo -> (Dummy|Subproc)VecEnv -> reward wrapper.

    Args:
        env_fn: Makes one env (with ``render_mode="rgb_array"`` if the model needs frames);
            must be picklable for ``subprocess=True``.
        n_envs: Number of envs.
        model: The reward model (lives in this process).
        composition: Reward composition.
        subprocess: Use ``SubprocVecEnv`` (rendering runs in the workers). The safer choice for
            third-party MuJoCo envs: with ``DummyVecEnv`` all envs share one process, and Gymnasium's
            MuJoCo renderer can then render black frames once any env of the suite is closed
            (robrew stops with one line when an env's frames stay one colour). In separate processes each
            env owns its GL context.
        seed: Seed of the first env (env i gets seed + i).
        render_devices: EGL device ids (GPUs); worker i renders on
            ``render_devices[i % len]`` (``MUJOCO_EGL_DEVICE_ID``, set inside the worker
            before its GL context exists). Needs ``subprocess=True``: one process has one
            EGL device.
        success_threshold: Passed to :class:`VecRewardModelWrapper`.
        constant_frames: Passed to :class:`VecRewardModelWrapper`.

    Returns:
        The wrapped VecEnv; wrap it in ``VecNormalize`` yourself if wanted.
    """
    from stable_baselines3.common.env_util import make_vec_env

    wrapper = FrameInInfo if model.needs_frames else None
    vec_cls = SubprocVecEnv if subprocess else DummyVecEnv
    if render_devices is None:
        venv = make_vec_env(env_fn, n_envs=n_envs, seed=seed, vec_env_cls=vec_cls, wrapper_class=wrapper)
    else:
        if not subprocess or not render_devices:
            raise ValueError("render_devices needs subprocess=True and at least one device id")
        devices = [int(d) for d in render_devices]
        venv = vec_cls([partial(_worker_env, env_fn, wrapper, devices[i % len(devices)]) for i in range(n_envs)])
        venv.seed(seed)
    return VecRewardModelWrapper(
        venv, model, composition, success_threshold=success_threshold, constant_frames=constant_frames
    )


def _worker_env(env_fn: Callable[[], gym.Env], wrapper, egl_device: int) -> gym.Env:
    """Runs in the worker: choose the EGL device, then build env -> Monitor -> wrapper."""
    from stable_baselines3.common.monitor import Monitor

    os.environ["MUJOCO_EGL_DEVICE_ID"] = str(egl_device)
    env = Monitor(env_fn())
    return wrapper(env) if wrapper is not None else env


class RewardLoggingCallback(BaseCallback):
    """Logs, per finished episode, the sum of model reward and of env reward and the
    ground-truth success (``info["is_success"]`` on the last step), averaged over the
    last ``window`` episodes: ``reward/ep_model_reward_mean``, ``reward/ep_env_reward_mean``,
    ``reward/true_success_rate``.
    """

    def __init__(self, window: int = 100, verbose: int = 0):
        super().__init__(verbose)
        self.window = window
        self.model_sums = self.env_sums = None
        self.episodes: deque[tuple[float, float, float]] = deque(maxlen=window)

    def _on_training_start(self) -> None:
        n = self.training_env.num_envs
        self.model_sums, self.env_sums = np.zeros(n), np.zeros(n)

    def _on_step(self) -> bool:
        infos, dones = self.locals["infos"], self.locals["dones"]
        for i, (info, done) in enumerate(zip(infos, dones)):
            self.model_sums[i] += info.get("model_reward", 0.0)
            self.env_sums[i] += info.get("env_reward", 0.0)
            if done:
                success = float(info["is_success"]) if "is_success" in info else float("nan")
                self.episodes.append((self.model_sums[i], self.env_sums[i], success))
                self.model_sums[i] = self.env_sums[i] = 0.0
        if self.episodes and np.any(dones):
            m, e, s = np.array(self.episodes).T
            self.logger.record("reward/ep_model_reward_mean", float(m.mean()))
            self.logger.record("reward/ep_env_reward_mean", float(e.mean()))
            if not np.all(np.isnan(s)):
                self.logger.record("reward/true_success_rate", float(np.nanmean(s)))
        return True
