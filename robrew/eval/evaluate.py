"""Evaluate a trained run (or one checkpoint) on the environment's ground truth.

Example:
    >>> result = evaluate_run("runs/tabletop_push/2026-11-22_10-00-00", episodes=20, videos=3)
    >>> result["success_rate"]      # {'mean': 0.85, 'low': 0.64, 'high': 0.95, 'n': 20}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robrew.io import write_json_atomic
from robrew.rewards.factory import RewardConfigError
from robrew.runs import ConfigError, load_run_policy, run_reward_model


def _proxy_curve(run_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(timesteps, model return, success) from a run's curve.csv, if it logged a model reward."""
    from robrew.eval.curves import read_curve

    if not (run_dir / "curve.csv").is_file():
        return None
    curve = read_curve(run_dir)
    proxy = curve.get("model_return")
    if proxy is None or not np.isfinite(proxy).any():
        return None
    keep = np.isfinite(proxy)
    return curve["timesteps"][keep], proxy[keep], curve["success_rate"][keep]


def evaluate_run(
    path: str | Path, episodes: int = 10, videos: int = 2, seed: int = 20_000, out_dir: str | Path | None = None
) -> dict:
    """Runs ``episodes`` deterministic episodes and writes the evaluation.

    Args:
        path: A run directory (its latest checkpoint) or a checkpoint directory.
        episodes: Number of episodes (seeds ``seed .. seed + episodes - 1``).
        videos: Record MP4s of the first ``videos`` episodes.
        seed: First episode seed (distinct from training and training-time eval seeds).
        out_dir: Output directory; default ``<run>/eval``.

    Returns:
        The dict written to ``eval.json``.
    """
    from robrew.eval.media import overlay_trace, plot_model_vs_success, plot_reward_traces, write_mp4
    from robrew.eval.report import write_report
    from robrew.metrics.rollouts import run_episodes, success_rate

    if episodes <= 0:
        raise ConfigError(f"episodes must be positive, got {episodes}")
    run = load_run_policy(path)
    run_dir, spec = run.run_dir, run.spec
    try:
        reward_model = run_reward_model(run.cfg, spec, run_dir)
    except RewardConfigError as e:
        raise ConfigError(f"{run_dir}: {e}") from None
    eps = run_episodes(
        run.make_env, run.act, episodes, seed, reward_model=reward_model, record=videos, model_obs=run.env_obs
    )
    out = Path(out_dir) if out_dir else run_dir / "eval"
    out.mkdir(parents=True, exist_ok=True)
    video_paths = []
    for i, ep in enumerate(eps[:videos]):
        traces = {"env": ep.env_rewards}
        if ep.model_rewards:
            traces["model"] = ep.model_rewards
        video_paths.append(write_mp4(out / f"episode_{i:02d}.mp4", overlay_trace(ep.frames, traces)))
    plots = [
        plot_reward_traces(eps, out / "reward_over_time.png"),
        plot_model_vs_success(eps, out / "reward_vs_success.png"),
    ]
    training_curve = _proxy_curve(run_dir)
    if training_curve is not None:  # the over-optimisation view: proxy and ground truth over training
        from robrew.eval.media import plot_proxy_vs_success

        plots.append(plot_proxy_vs_success(*training_curve, out / "proxy_vs_success_during_training.png"))
    result = {
        "task": spec.name,
        "checkpoint": str(run.checkpoint),
        "num_timesteps": int(run.learner.num_timesteps),
        "episodes": episodes,
        "success_rate": success_rate([e.success for e in eps]),
        "env_return": {
            "mean": float(np.mean([e.env_return for e in eps])),
            "std": float(np.std([e.env_return for e in eps])),
        },
        "model_return": (
            {"mean": float(np.mean([e.model_return for e in eps])), "std": float(np.std([e.model_return for e in eps]))}
            if reward_model is not None
            else None
        ),
        "reward": run.cfg.reward.name,
        "per_episode": [
            {
                "success": e.success,
                "env_return": e.env_return,
                "model_return": e.model_return if e.model_rewards else None,
                "instruction": e.instruction,
            }
            for e in eps
        ],
        "videos": [p.name for p in video_paths],
        "plots": [p.name for p in plots],
    }
    write_json_atomic(out / "eval.json", result)
    summary = {
        k: result[k]
        for k in (
            "task",
            "checkpoint",
            "num_timesteps",
            "episodes",
            "success_rate",
            "env_return",
            "model_return",
            "reward",
        )
    }
    write_report(out / "report.html", f"robrew eval: {spec.name}", summary, plots, video_paths)
    return result
