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
from robrew.wrappers.frames import FRAME_KEY, FrameInInfo
from robrew.wrappers.history import EpisodeHistory


class VecRewardModelWrapper(VecEnvWrapper):
    """Replaces (or combines) a VecEnv's rewards with a reward model's, one call per step.

    Args:
        venv: VecEnv whose sub-envs are wrapped in :class:`FrameInInfo` if the model needs frames.
        model: Any :class:`RewardModel`.
        composition: How to combine with the env reward (default: replace it).
        use_instructions: Pass ``info["instruction"]`` (when present) to the model.
        success_threshold: If set, ``info["model_success"]`` says whether the model's
            value (e.g. predicted progress) of the step's resulting state reaches it.

    With a ``potential`` or ``delta`` composition the wrapper keeps Φ of each env's
    current state: Φ(s₀) is scored on the reset observation, and after an autoreset on
    the new episode's first observation. That needs an observation-based model (frames of
    a reset state never leave SB3's workers).
    """

    def __init__(
        self,
        venv: VecEnv,
        model: RewardModel,
        composition: RewardComposition | None = None,
        use_instructions: bool = True,
        success_threshold: float | None = None,
    ):
        super().__init__(venv)
        self.model = model
        self.composition = composition or RewardComposition()
        self.use_instructions = use_instructions
        self.success_threshold = success_threshold
        if self.composition.stateful and (model.needs_frames or not model.needs_obs):
            raise ValueError(
                f"composition {self.composition.mode!r} needs a model scored on observations (Φ of the reset state), "
                f"but {model.name!r} reads frames; train a state-encoder model or use replace/add/weighted"
            )
        self._phi = np.zeros(self.num_envs)
        self.window = int(getattr(model, "window", 1))  # models with a causal frame window get per-env history
        self._history = EpisodeHistory(self.num_envs, self.window) if self.window > 1 else None

    def _score(self, x: np.ndarray | None, frames: np.ndarray | None, instructions) -> np.ndarray:
        """Scores this step's inputs (through the per-env windows for window models)."""
        if self._history is not None:
            windows = self._history.push(frames if self.model.needs_frames else x)
            return self.model.score(frames=windows if self.model.needs_frames else None,
                                    obs=windows if self.model.needs_obs else None, instructions=instructions)  # fmt: skip
        return self.model.score(frames=frames, obs=x, instructions=instructions)

    def _start_episodes(self, envs, obs) -> np.ndarray | None:
        """New episodes in ``envs`` (their first observations ``obs``); returns Φ of those states
        for shaping, else None."""
        if self._history is not None:
            for i, o in zip(envs, obs):
                self._history.start(i, np.asarray(o, np.float32) if self.model.needs_obs else None)
        if not self.composition.stateful:
            return None
        reset_infos = getattr(self.venv, "reset_infos", None) or [{}] * self.num_envs
        ins = self._instructions([reset_infos[i] for i in envs])
        first = self._history.current(list(envs)) if self._history is not None else np.asarray(obs, np.float32)
        return self.model.score(obs=first, instructions=ins).astype(np.float64)

    def _instructions(self, infos) -> list[str] | None:
        if self.use_instructions and infos and all("instruction" in info for info in infos):
            return [info["instruction"] for info in infos]
        return None

    def reset(self):
        obs = self.venv.reset()
        phi = self._start_episodes(list(range(self.num_envs)), obs)
        if phi is not None:
            self._phi = phi
        return obs

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        frames = None
        if self.model.needs_frames:
            if any(FRAME_KEY not in info for info in infos):
                raise RuntimeError(
                    f"reward model {self.model.name!r} needs frames, but the sub-envs do not put them in info; "
                    "wrap each env in robrew.wrappers.FrameInInfo (or build the stack with make_scored_vec_env)"
                )
            frames = np.stack([info.pop(FRAME_KEY) for info in infos])
        model_obs = None
        if self.model.needs_obs:
            model_obs = np.stack(
                [info["terminal_observation"] if done else o for o, done, info in zip(obs, dones, infos)]
            ).astype(np.float32)
        instructions = self._instructions(infos)
        model_rewards = self._score(model_obs, frames, instructions)
        if self.composition.stateful:
            terminated = np.array([d and not info.get("TimeLimit.truncated", False) for d, info in zip(dones, infos)])
            total = self.composition.shaped(rewards, self._phi, model_rewards, terminated)
            self._phi = model_rewards.astype(np.float64)
        else:
            total = self.composition(rewards, model_rewards)
        if dones.any():  # autoreset: the new episodes' first states (their own instructions, Φ, history)
            idx = np.flatnonzero(dones).tolist()
            phi = self._start_episodes(idx, obs[idx])
            if phi is not None:
                self._phi[idx] = phi
        for info, r_env, r_model in zip(infos, rewards, model_rewards):
            info["env_reward"], info["model_reward"] = float(r_env), float(r_model)
            if self.success_threshold is not None:
                info["model_success"] = bool(r_model >= self.success_threshold)
        return obs, total.astype(np.float32), dones, infos


def make_scored_vec_env(
    env_fn: Callable[[], gym.Env],
    n_envs: int,
    model: RewardModel,
    composition: RewardComposition | None = None,
    subprocess: bool = False,
    seed: int | None = None,
    render_devices: Sequence[int] | None = None,
) -> VecRewardModelWrapper:
    """Builds env_fn x n_envs -> Monitor -> FrameInInfo -> (Dummy|Subproc)VecEnv -> reward wrapper.

    Args:
        env_fn: Makes one env (with ``render_mode="rgb_array"`` if the model needs frames);
            must be picklable for ``subprocess=True``.
        n_envs: Number of envs.
        model: The reward model (lives in this process).
        composition: Reward composition.
        subprocess: Use ``SubprocVecEnv`` (rendering runs in the workers).
        seed: Seed of the first env (env i gets seed + i).
        render_devices: EGL device ids (GPUs); worker i renders on
            ``render_devices[i % len]`` (``MUJOCO_EGL_DEVICE_ID``, set inside the worker
            before its GL context exists). Needs ``subprocess=True``: one process has one
            EGL device.

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
    return VecRewardModelWrapper(venv, model, composition)


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
