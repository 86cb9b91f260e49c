"""One training run, readable top to bottom: task -> env -> renderer -> reward model ->
reward wrapper -> SB3 learner, with checkpoints, ground-truth evaluation and resume.

Example:
    >>> from robrew.runs import TrainConfig, TaskConfig, AlgoConfig
    >>> from robrew.rewards.factory import RewardConfig
    >>> cfg = TrainConfig(task=TaskConfig("tabletop_reach"), reward=RewardConfig(), algo=AlgoConfig(),
    ...                   total_timesteps=2048)
    >>> metrics = train(cfg, Path("runs/example"))
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from robrew.io import write_json_atomic
from robrew.rewards.base import RewardModel
from robrew.rewards.factory import RewardConfigError, build_reward_model, reward_record
from robrew.runs import (
    ConfigError,
    TrainConfig,
    algo_params,
    latest_checkpoint,
    load_learner,
    load_run_config,
    policy_fn,
    resolve_task,
    save_checkpoint,
    save_run_config,
)
from robrew.taskspec import TaskSpec
from robrew.training.checkpoints import CheckpointCallback

__all__ = [
    "ConfigError",
    "GroundTruthEvalCallback",
    "dump",
    "load_run_config",
    "make_learner",
    "make_train_env",
    "train",
    "validate",
]


# ---- building blocks ---------------------------------------------------------------------


def validate(cfg: TrainConfig, spec: TaskSpec, model: RewardModel | None) -> None:
    """Checks that can fail before any training; raises :class:`ConfigError` with one line."""
    for name in ("total_timesteps", "n_envs", "checkpoint_every", "eval_every"):
        if getattr(cfg, name) <= 0:
            raise ConfigError(f"{name} must be positive, got {getattr(cfg, name)}")
    if cfg.eval_episodes < 0:
        raise ConfigError(f"eval_episodes must be >= 0, got {cfg.eval_episodes}")
    algo_params(cfg.algo, spec.tags)  # a parameter of the other algorithm fails here
    if model is not None and model.needs_frames:
        from robrew.env_factory import make_env

        probe = make_env(spec)
        modes = probe.metadata.get("render_modes", [])
        probe.close()
        if "rgb_array" not in modes:
            raise ConfigError(
                f"reward '{cfg.reward.name}' needs frames but env {spec.env_id} has no rgb_array renderer "
                f"(render modes: {modes}); use a state-based reward or an env that renders"
            )


def make_train_env(spec: TaskSpec, cfg: TrainConfig, model: RewardModel | None):
    """Returns (training VecEnv, its VecNormalize or None)."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

    from robrew.env_factory import make_env
    from robrew.wrappers import FrameInInfo, RewardComposition, VecRewardModelWrapper

    needs_frames = model is not None and model.needs_frames

    def env_fn():
        return make_env(spec, render_mode="rgb_array" if needs_frames else None)

    venv = make_vec_env(
        env_fn,
        n_envs=cfg.n_envs,
        seed=cfg.seed,
        vec_env_cls=SubprocVecEnv if cfg.subprocess else DummyVecEnv,
        wrapper_class=FrameInInfo if needs_frames else None,
    )
    gamma = algo_params(cfg.algo, spec.tags)["gamma"]
    if model is not None:
        r = cfg.reward
        # Potential shaping must use the learner's own γ to leave the optimal policy unchanged.
        composition = RewardComposition(r.composition, r.env_weight, r.model_weight, gamma=gamma)
        venv = VecRewardModelWrapper(venv, model, composition, success_threshold=r.success_threshold)
    norm = None
    if cfg.normalize:
        venv = norm = VecNormalize(venv, norm_obs=True, norm_reward=True, gamma=gamma)
    return venv, norm


def make_learner(cfg: TrainConfig, spec: TaskSpec, venv, run_dir: Path):
    """A new SB3 PPO/SAC on ``venv`` with the task family's defaults, logging to ``run_dir/tb``.

    Raises:
        ConfigError: SB3 rejects the hyperparameters.
    """
    from stable_baselines3 import PPO, SAC

    cls = {"ppo": PPO, "sac": SAC}[cfg.algo.name]
    try:
        return cls(
            cfg.algo.policy,
            venv,
            seed=cfg.seed,
            device=cfg.device,
            tensorboard_log=str(run_dir / "tb"),
            verbose=0,
            **algo_params(cfg.algo, spec.tags),
        )
    except (TypeError, ValueError, AssertionError) as e:
        raise ConfigError(f"algo '{cfg.algo.name}': {e}") from None


# ---- ground-truth evaluation during training --------------------------------------------


class GroundTruthEvalCallback(BaseCallback):
    """Every ``every`` steps, runs ``episodes`` deterministic episodes and logs the
    env's ground truth (``eval/true_success_rate``, ``eval/env_return``) to TensorBoard
    and to ``curve.csv`` in the run directory. With a reward model it also logs the
    proxy (``eval/model_return``, model reward per episode) and warns once when the proxy
    keeps rising while success falls (:class:`robrew.metrics.overoptimisation.OverOptimisationWatch`)."""

    def __init__(
        self,
        spec: TaskSpec,
        run_dir: Path,
        every: int,
        episodes: int,
        seed: int,
        vec_normalize=None,
        reward_model: RewardModel | None = None,
    ):
        from robrew.metrics.overoptimisation import OverOptimisationWatch

        super().__init__()
        self.spec, self.csv, self.every, self.episodes = spec, run_dir / "curve.csv", int(every), int(episodes)
        self.seed, self.vec_normalize, self.reward_model = seed, vec_normalize, reward_model
        self.watch = OverOptimisationWatch()
        self._last = 0
        self.latest: dict = {}

    def _on_training_start(self) -> None:
        self._last = self.model.num_timesteps

    def evaluate(self) -> dict:
        """Runs the ground-truth evaluation now; logs it, appends to curve.csv, returns the result dict."""
        from robrew.env_factory import make_env
        from robrew.metrics.rollouts import run_episodes, success_rate

        if self.episodes == 0:
            return {}
        model = self.reward_model
        eps = run_episodes(
            lambda render: make_env(self.spec, render_mode="rgb_array" if render else None),
            policy_fn(self.model, self.vec_normalize),
            self.episodes,
            self.seed,
            reward_model=model,
        )
        result = {
            "timesteps": int(self.model.num_timesteps),
            "success_rate": success_rate([e.success for e in eps]),
            "env_return": float(np.mean([e.env_return for e in eps])),
            "model_return": float(np.mean([e.model_return for e in eps])) if model is not None else float("nan"),
        }
        self.logger.record("eval/true_success_rate", result["success_rate"]["mean"])
        self.logger.record("eval/env_return", result["env_return"])
        if model is not None:
            self.logger.record("eval/model_return", result["model_return"])
            result["overoptimising"] = self.watch.update(
                result["timesteps"], result["model_return"], result["success_rate"]["mean"]
            )
        new = not self.csv.exists()
        with self.csv.open("a") as f:
            if new:
                f.write("timesteps,success_rate,env_return,model_return\n")
            f.write(
                f"{result['timesteps']},{result['success_rate']['mean']},{result['env_return']},{result['model_return']}\n"
            )
        self.latest = result
        return result

    def _on_step(self) -> bool:
        if self.model.num_timesteps - self._last >= self.every:
            self._last = self.model.num_timesteps
            self.evaluate()
        return True


# ---- the run -------------------------------------------------------------------------------


def train(cfg: TrainConfig, run_dir: Path) -> dict:
    """Trains (or resumes) one run in ``run_dir``; returns the metrics written to ``metrics.json``.

    Raises:
        ConfigError: before training, when the config cannot work.
    """
    run_dir = Path(run_dir)
    resumed_from = latest_checkpoint(run_dir) if cfg.resume else None
    if cfg.resume and resumed_from is None:
        raise ConfigError(f"nothing to resume in {run_dir}: no checkpoint yet (checkpoints/latest.json)")
    if cfg.torch_threads > 0:
        import torch

        torch.set_num_threads(cfg.torch_threads)
    spec = resolve_task(cfg)
    try:
        reward_model = build_reward_model(cfg.reward, spec)
    except RewardConfigError as e:
        raise ConfigError(str(e)) from None
    validate(cfg, spec, reward_model)

    run_dir.mkdir(parents=True, exist_ok=True)
    if not cfg.resume:
        save_run_config(run_dir, cfg)
        write_json_atomic(run_dir / "reward.json", reward_record(cfg.reward, reward_model))
    with (run_dir / "command.txt").open("a") as f:
        f.write(" ".join(sys.argv) + "\n")

    venv, norm = make_train_env(spec, cfg, reward_model)
    if resumed_from is not None:
        if norm is not None and (resumed_from / "vecnormalize.pkl").is_file():
            from stable_baselines3.common.vec_env import VecNormalize

            venv = norm = VecNormalize.load(str(resumed_from / "vecnormalize.pkl"), venv.venv)
        model = load_learner(cfg, resumed_from, venv)
        print(f"resumed from {resumed_from.name} at step {model.num_timesteps}", flush=True)
    else:
        model = make_learner(cfg, spec, venv, run_dir)

    from robrew.wrappers import RewardLoggingCallback

    ckpt = CheckpointCallback(run_dir, cfg.checkpoint_every, norm)
    gt_eval = GroundTruthEvalCallback(
        spec,
        run_dir,
        cfg.eval_every,
        cfg.eval_episodes,
        seed=10_000 + cfg.seed,
        vec_normalize=norm,
        reward_model=reward_model,
    )
    remaining = cfg.total_timesteps - model.num_timesteps
    start, start_steps = time.perf_counter(), model.num_timesteps
    if remaining > 0:
        model.learn(
            total_timesteps=remaining,
            callback=[RewardLoggingCallback(), gt_eval, ckpt],
            progress_bar=cfg.progress_bar,
            reset_num_timesteps=resumed_from is None,
            tb_log_name="train",
        )
    wall = time.perf_counter() - start
    save_checkpoint(run_dir, model, norm)
    venv.close()
    if ckpt.stopped_by_signal:
        print(
            f"stopped by signal at step {model.num_timesteps}; checkpoint saved. Resume with resume={run_dir}",
            flush=True,
        )
        return {"num_timesteps": int(model.num_timesteps), "stopped_by_signal": True}

    final = gt_eval.evaluate() if cfg.eval_episodes else {}
    metrics = {
        "task": spec.name,
        "algo": cfg.algo.name,
        "reward": cfg.reward.name,
        "seed": cfg.seed,
        "num_timesteps": int(model.num_timesteps),
        "resumed_from_step": int(start_steps) if resumed_from is not None else None,
        "wall_time_s": wall,
        "env_steps_per_s": (model.num_timesteps - start_steps) / wall if wall > 0 else None,
        "final_eval": final,
    }
    write_json_atomic(run_dir / "metrics.json", metrics)
    return metrics


def dump(metrics: dict) -> str:
    """One-line summary for the console."""
    final = metrics.get("final_eval") or {}
    sr = final.get("success_rate", {})
    if not sr:
        return json.dumps(metrics)
    return (
        f"{metrics['task']} {metrics['algo']} reward={metrics['reward']} steps={metrics['num_timesteps']}: "
        f"true success {sr['mean']:.0%} [{sr['low']:.0%}, {sr['high']:.0%}] over {sr['n']} episodes, "
        f"env return {final['env_return']:.1f}"
    )
