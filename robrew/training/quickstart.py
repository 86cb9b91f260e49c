"""Quick start: PPO on a tabletop task with the env's own reward, judged by ground truth.

This is what ``make demo`` runs until the progress-reward main job exists: a short
SB3 PPO training on state observations, then an evaluation of the deterministic
policy against a random policy on the env's ``is_success``.

Example:
    >>> result = train_and_evaluate(QuickstartConfig(total_timesteps=2_000, eval_episodes=2))
    >>> sorted(result)
    ['env_steps_per_s', 'mean_return', 'random_success_rate', 'success_rate', ...]
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from robrew.io import write_json_atomic


@dataclass
class QuickstartConfig:
    """Settings of the quick-start run."""

    task: str = "tabletop_reach"
    total_timesteps: int = 60_000
    n_envs: int = 4
    seed: int = 0
    eval_episodes: int = 30
    device: str = "cpu"
    out_dir: str = "runs/quickstart"


def train_and_evaluate(cfg: QuickstartConfig) -> dict:
    """Trains PPO for ``cfg.total_timesteps`` and evaluates it and a random policy.

    Returns:
        A dict with ``success_rate``, ``random_success_rate``, ``mean_return``,
        ``random_mean_return``, ``env_steps_per_s`` and the config; also saved, with the
        model, under ``cfg.out_dir``.
    """
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from robrew.env_factory import make_env
    from robrew.eval.rollouts import run_episodes
    from robrew.taskspec import load_task

    if cfg.total_timesteps <= 0:
        raise ValueError(f"total_timesteps must be positive, got {cfg.total_timesteps}")
    torch.set_num_threads(1)  # small MLPs: threads only add overhead on 2 cores
    spec = load_task(cfg.task)
    vec = make_vec_env(lambda: make_env(spec), n_envs=cfg.n_envs, seed=cfg.seed)
    model = PPO(
        "MlpPolicy",
        vec,
        seed=cfg.seed,
        device=cfg.device,
        n_steps=512,
        batch_size=256,
        learning_rate=1e-3,
        gamma=0.97,
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=cfg.total_timesteps)
    steps_per_s = cfg.total_timesteps / (time.perf_counter() - start)
    vec.close()

    eval_seed = 10_000 + cfg.seed  # episodes never seen in training
    action_space = vec.action_space
    action_space.seed(cfg.seed)
    policies = {"ppo": lambda o: model.predict(o, deterministic=True)[0], "random": lambda o: action_space.sample()}
    summary = {}
    for name, policy in policies.items():
        eps = run_episodes(lambda render: make_env(spec), policy, cfg.eval_episodes, eval_seed)
        summary[name] = (float(np.mean([e.success for e in eps])), float(np.mean([e.env_return for e in eps])))
    (success, ret), (rand_success, rand_ret) = summary["ppo"], summary["random"]
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.zip")
    result = {
        "success_rate": success,
        "random_success_rate": rand_success,
        "mean_return": ret,
        "random_mean_return": rand_ret,
        "env_steps_per_s": steps_per_s,
        "config": asdict(cfg),
    }
    write_json_atomic(out / "metrics.json", result)  # atomic: never a half-written file
    return result
