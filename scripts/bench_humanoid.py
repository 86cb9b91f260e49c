"""Benchmark (not a test): PPO policies for the eight VLM-RM humanoid poses from the ground-truth
pose reward (state observations, normalised: the humanoid family's PPO default), each evaluated
on its own success rule.

Per pose it prints the episode success rate (VLM-RM's definition: the pose detected on at least
50 of the 100 steps) with a Wilson 95% CI, the mean pose score per step, env steps and training
wall time; it writes one MP4 per pose (the task's ``fixed`` camera, ``clip`` look) and one HTML
page with all of them. ``--eval-only`` evaluates existing run dirs (``<out>/runs/<pose>``) again. The run dirs are what
``robrew-eval-reward --policies`` takes: a CLIP reward's quality on the states these policies visit.

Usage:
    python scripts/bench_humanoid.py [--poses kneeling standing ...] [--steps 800000] [--out runs/bench_humanoid]
    python scripts/bench_humanoid.py --eval-only --out runs/bench_humanoid [--episodes 50]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import robrew  # noqa: F401  (first: safe render order, MUJOCO_GL)
from robrew.envs.humanoid_poses import POSES


def train_pose(pose: str, run: Path, steps: int, seed: int) -> None:
    """One PPO run on ``humanoid_<pose>`` with the env's pose score as the reward."""
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import Algo, AlgoConfig, TaskConfig, TrainConfig
    from robrew.training.train import train

    every = max(steps // 4, 1)
    cfg = TrainConfig(
        task=TaskConfig(f"humanoid_{pose}"),
        reward=RewardConfig(),
        algo=AlgoConfig(name=Algo.ppo),
        n_envs=8,
        total_timesteps=steps,
        checkpoint_every=every,
        eval_every=every,
        eval_episodes=20,
        progress_bar=False,
        torch_threads=1,
        seed=seed,
    )
    train(cfg, run)


def evaluate_pose(pose: str, run: Path, episodes: int, videos: Path) -> dict:
    """Success (Wilson CI), mean pose score per step, env steps and wall time of one pose's run."""
    from robrew.eval.evaluate import evaluate_run
    from robrew.taskspec import load_task

    result = evaluate_run(run, episodes, videos=1, out_dir=run / "eval")
    metrics = json.loads((run / "metrics.json").read_text())
    video = videos / f"{pose}.mp4"
    shutil.copyfile(run / "eval" / "episode_00.mp4", video)
    horizon = load_task(f"humanoid_{pose}").horizon
    return {
        "pose": pose,
        "success_rate": result["success_rate"],
        "mean_pose_score": result["env_return"]["mean"] / horizon,  # the env's reward is the pose score
        "env_steps": result["num_timesteps"],
        "wall_time_s": metrics.get("wall_time_s"),
        "video": str(video),
    }


def format_rows(rows: list[dict]) -> str:
    """The printed table: a header, then one line per row of :func:`evaluate_pose`."""
    lines = [f"{'pose':<15}{'success':>9}{'95% CI':>14}{'pose score':>12}{'env steps':>11}{'wall s':>8}"]
    for r in rows:
        sr = r["success_rate"]
        ci = f"[{sr['low']:.0%}, {sr['high']:.0%}]"
        wall = f"{r['wall_time_s']:.0f}" if r["wall_time_s"] is not None else "-"
        lines.append(
            f"{r['pose']:<15}{sr['mean']:>9.0%}{ci:>14}{r['mean_pose_score']:>12.3f}{r['env_steps']:>11}{wall:>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    """Trains (unless ``--eval-only``) and evaluates each pose; returns the rows of :func:`evaluate_pose`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", nargs="+", choices=POSES, default=list(POSES))
    parser.add_argument("--steps", type=int, default=800_000, help="PPO env steps per pose")
    parser.add_argument("--episodes", type=int, default=50, help="evaluation episodes per pose")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_humanoid"))
    parser.add_argument("--eval-only", action="store_true", help="evaluate existing <out>/runs/<pose> run dirs")
    args = parser.parse_args(argv)

    from robrew.eval.report import write_report
    from robrew.io import write_json_atomic

    runs = args.out / "runs"
    missing = [p for p in args.poses if args.eval_only and not (runs / p / "metrics.json").exists()]
    if missing:
        parser.error(f"--eval-only: no finished run for {', '.join(missing)} under {args.out} (train them first)")
    videos = args.out / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    rows = []
    for pose in args.poses:
        if not args.eval_only:
            train_pose(pose, runs / pose, args.steps, args.seed)
        rows.append(evaluate_pose(pose, runs / pose, args.episodes, videos))
        print(format_rows(rows[-1:]).splitlines()[-1], flush=True)
    write_json_atomic(args.out / "results.json", {"poses": rows})
    summary = {
        r["pose"]: f"{r['success_rate']['mean']:.0%} [{r['success_rate']['low']:.0%}, {r['success_rate']['high']:.0%}]"
        f" (n={r['success_rate']['n']}), pose score {r['mean_pose_score']:.3f}, {r['env_steps']} steps"
        for r in rows
    }
    report = write_report(
        args.out / "report.html",
        "Humanoid poses: PPO on the ground-truth pose reward",
        summary,
        [],
        [Path(r["video"]) for r in rows],
    )
    print(format_rows(rows))
    print(f"report: {report}")
    print(
        "CLIP reward on these policies' states: robrew-eval-reward --tasks "
        + " ".join(f"humanoid_{r['pose']}" for r in rows)
        + " --policies "
        + " ".join(str(runs / r["pose"]) for r in rows)
        + " --model ViT-bigG-14 --pretrained <checkpoint>"
    )
    return rows


if __name__ == "__main__":
    main()
