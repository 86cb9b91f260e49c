"""Benchmark (not a test): PPO policies for the eight VLM-RM humanoid poses from the ground-truth
pose reward (state observations, normalised: the humanoid family's PPO default), each evaluated
on its own success rule; with ``--reward learned``, PPO from scratch on a progress reward learned
from demonstrations of those policies instead.

Per pose it prints the episode success rate (VLM-RM's definition: the pose detected on at least
50 of the 100 steps) with a Wilson 95% CI, the mean pose score per step, env steps and training
wall time; it writes one MP4 per pose (the task's ``fixed`` camera, ``clip`` look) and one HTML
page with all of them. ``--eval-only`` evaluates existing run dirs (``<out>/runs/<pose>``) again. The run dirs are what
``robrew-eval-reward --policies`` takes: a CLIP reward's quality on the states these policies visit.

``--reward learned``, per pose: the ground-truth run ``<out>/runs/<pose>`` (trained first if it is
not there) is recorded with ``robrew-collect --run <run> --mix ...`` (clean, noisy and failing
episodes, flagged only by the env's success), ``robrew-train-reward`` fits a state progress model
on them (``<out>/rewards/<pose>``; its held-out VOC and success AUC are printed next to the
hand-written pose score's on the same episodes), and PPO trains from scratch on that model alone
(``reward.composition=replace``; ``--refit-every N`` refits it every N env steps on the policy's
own states as negatives, 0: never) in ``<out>/runs_learned/<pose>``. The table has, per pose, the
learned-reward run's ground-truth success, the ground-truth run's at the same budget, the model's
score per step on the policy's states against on the demos' (the exploitation figure), and
Spearman(model return, success) over the run's evaluations.

Usage:
    python scripts/bench_humanoid.py [--poses kneeling standing ...] [--steps 800000] [--out runs/bench_humanoid]
    python scripts/bench_humanoid.py --eval-only --out runs/bench_humanoid [--episodes 50]
    python scripts/bench_humanoid.py --reward learned --poses standing kneeling [--refit-every 16384] \
        [--mix clean=20,noisy=20,failing=20] [--out runs/bench_humanoid]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import robrew  # noqa: F401  (first: safe render order, MUJOCO_GL)
from robrew.agents.ppo import PpoConfig
from robrew.envs.humanoid_poses import POSES


def train_pose(pose: str, run: Path, steps: int, seed: int, reward=None) -> None:
    """One PPO run on ``humanoid_<pose>``: the env's pose score as the reward, or ``reward`` (a
    ``RewardConfig``)."""
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import TaskConfig, TrainConfig
    from robrew.training.train import train

    every = max(steps // 4, 1)
    cfg = TrainConfig(
        task=TaskConfig(f"humanoid_{pose}"),
        reward=reward or RewardConfig(),
        algo=PpoConfig(),
        n_envs=8,
        total_timesteps=steps,
        checkpoint_every=every,
        eval_every=max(steps // 8, 1) if reward is not None else every,
        eval_episodes=20,
        progress_bar=False,
        torch_threads=1,
        seed=seed,
    )
    train(cfg, run)


def learn_reward(
    pose: str, gt_run: Path, out: Path, mix: str, seed: int, steps: int, extra: list[str]
) -> tuple[Path, dict]:
    """Records ``gt_run``'s policy with the quality ``mix`` and fits a progress model on it, with
    the same commands a user types (``extra``: more ``robrew-train-reward`` flags); returns (model
    dir, offline quality: the model's and the recorded pose score's held-out VOC / success AUC on
    the same held-out episodes)."""
    from robrew.apps.collect import main as collect
    from robrew.apps.train_reward import main as train_reward
    from robrew.data.demos import load_demos
    from robrew.training.progress import recorded_reward_metrics, split_demos

    data = out / "data"
    dataset = data / "robrew" / f"humanoid_{pose}" / "recorded-v0"
    if not dataset.is_dir():
        collect(["--run", str(gt_run), "--mix", mix, "--out", str(data), "--seed", str(1000 + seed)])
    model_dir = out / "rewards" / pose
    if not (model_dir / "report.json").is_file():
        train_reward(
            ["--data", str(dataset), "--out", str(model_dir), "--steps", str(steps), "--seed", str(seed), *extra]
        )
    report = json.loads((model_dir / "report.json").read_text())
    _, held_out = split_demos(load_demos(dataset), report["config"]["val_fraction"], report["config"]["seed"])
    pose_score = recorded_reward_metrics(held_out)
    return model_dir, {
        "model": {k: report.get(k) for k in ("voc_clean", "success_auc", "held_out_episodes")},
        "pose_score": {k: pose_score.get(k) for k in ("voc_clean", "success_auc")},
        "dataset": str(dataset),
    }


def exploitation(run: Path, dataset: str, result: dict) -> dict:
    """The run's final reward model: its score per step on the policy's evaluation states against
    its mean score on the successful demos' frames, and Spearman(model return, success) over the
    run's evaluations (``curve.csv``)."""
    import csv

    import numpy as np

    from robrew.data.demos import load_demos
    from robrew.metrics.overoptimisation import rank_correlation
    from robrew.runs import load_run_config, resolve_task, run_reward_model

    cfg = load_run_config(run)
    model = run_reward_model(cfg, resolve_task(cfg), run)
    good = [d for d in load_demos(dataset) if d.success]
    demo_score = float(
        np.concatenate([model.score_episode(obs=d.observations, instructions=d.instruction) for d in good]).mean()
    )
    rows = list(csv.DictReader((run / "curve.csv").open()))
    horizon = 100
    return {
        "policy_model_score": result["model_return"]["mean"] / horizon,
        "demo_model_score": demo_score,
        "spearman": rank_correlation(
            [float(r["model_return"]) for r in rows], [float(r["success_rate"]) for r in rows]
        ),
        "curve": [(int(r["timesteps"]), float(r["success_rate"]), float(r["model_return"])) for r in rows],
    }


def evaluate_pose(pose: str, run: Path, episodes: int, videos: Path, suffix: str = "") -> dict:
    """Success (Wilson CI), mean pose score per step, env steps and wall time of one pose's run."""
    from robrew.eval.evaluate import evaluate_run
    from robrew.taskspec import load_task

    result = evaluate_run(run, episodes, videos=1, out_dir=run / "eval")
    metrics = json.loads((run / "metrics.json").read_text())
    video = videos / f"{pose}{suffix}.mp4"
    shutil.copyfile(run / "eval" / "episode_00.mp4", video)
    horizon = load_task(f"humanoid_{pose}").horizon
    return {
        "pose": pose,
        "success_rate": result["success_rate"],
        "mean_pose_score": result["env_return"]["mean"] / horizon,  # the env's reward is the pose score
        "env_steps": result["num_timesteps"],
        "wall_time_s": metrics.get("wall_time_s"),
        "video": str(video),
        "eval": result,
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


def format_learned(rows: list[dict]) -> str:
    """The ``--reward learned`` table: one line per pose."""
    lines = [
        f"{'pose':<14}{'learned':>9}{'95% CI':>12}{'GT reward':>10}{'VOC':>6}{'AUC':>6}{'VOC pose':>9}"
        f"{'AUC pose':>9}{'score pol':>10}{'score demo':>11}{'spearman':>9}{'steps':>9}{'wall s':>7}"
    ]
    for r in rows:
        sr, gt, off, ex = r["learned"]["success_rate"], r["gt"]["success_rate"], r["offline"], r["exploitation"]
        ci = f"[{sr['low']:.0%}, {sr['high']:.0%}]"
        lines.append(
            f"{r['pose']:<14}{sr['mean']:>9.0%}{ci:>12}{gt['mean']:>10.0%}"
            f"{off['model']['voc_clean']:>6.2f}{off['model']['success_auc']:>6.2f}{off['pose_score']['voc_clean']:>9.2f}"
            f"{off['pose_score']['success_auc']:>9.2f}{ex['policy_model_score']:>10.3f}{ex['demo_model_score']:>11.3f}"
            f"{ex['spearman']:>9.2f}{r['learned']['env_steps']:>9}{r['learned']['wall_time_s'] or 0:>7.0f}"
        )
    return "\n".join(lines)


def run_learned(args, runs: Path, videos: Path) -> list[dict]:
    """``--reward learned``: per pose, demos of the ground-truth run, a progress model on them, PPO
    on that model alone; evaluated by the ground-truth detector."""
    from robrew.rewards.factory import RefitConfig, RewardConfig

    rows = []
    for pose in args.poses:
        gt_run = runs / pose
        if not (gt_run / "metrics.json").is_file():
            train_pose(pose, gt_run, args.steps, args.seed)
        extra = ["--obs-ranges", args.obs_ranges] if args.obs_ranges else []
        reward_dir, offline = learn_reward(pose, gt_run, args.out, args.mix, args.seed, args.reward_steps, extra)
        run = args.out / "runs_learned" / pose
        if not (run / "metrics.json").is_file():
            reward = RewardConfig(
                name="progress",
                checkpoint=str(reward_dir),
                refit=RefitConfig(every=args.refit_every, steps=args.refit_steps),
            )
            train_pose(pose, run, args.steps, args.seed, reward=reward)
        learned = evaluate_pose(pose, run, args.episodes, videos, suffix="_learned")
        row = {
            "pose": pose,
            "learned": {k: v for k, v in learned.items() if k != "eval"},
            "gt": {k: v for k, v in evaluate_pose(pose, gt_run, args.episodes, videos).items() if k != "eval"},
            "offline": offline,
            "exploitation": exploitation(run, offline["dataset"], learned["eval"]),
            "refit_every": args.refit_every,
            "refit_steps": args.refit_steps,
        }
        rows.append(row)
        print(format_learned([row]).splitlines()[-1], flush=True)
    from robrew.io import write_json_atomic

    write_json_atomic(args.out / "results_learned.json", {"poses": rows})
    print(format_learned(rows))
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    """Trains (unless ``--eval-only``) and evaluates each pose; returns the rows of :func:`evaluate_pose`
    (``--reward learned``: of :func:`run_learned`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", nargs="+", choices=POSES, default=list(POSES))
    parser.add_argument("--steps", type=int, default=800_000, help="PPO env steps per pose")
    parser.add_argument("--episodes", type=int, default=50, help="evaluation episodes per pose")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_humanoid"))
    parser.add_argument("--eval-only", action="store_true", help="evaluate existing <out>/runs/<pose> run dirs")
    parser.add_argument("--reward", choices=("gt", "learned"), default="gt", help="the pose score, or a learned one")
    parser.add_argument(
        "--mix", default="clean=20,noisy=20,failing=20", help="--reward learned: the demos' quality mix"
    )
    parser.add_argument("--reward-steps", type=int, default=3000, help="--reward learned: progress-model steps")
    parser.add_argument(
        "--obs-ranges", help="--reward learned: observation values the reward reads (start:stop[,...]; default all)"
    )
    parser.add_argument("--gt-runs", type=Path, help="ground-truth run dirs <gt-runs>/<pose> (default <out>/runs)")
    parser.add_argument("--refit-steps", type=int, default=200, help="--reward learned: optimiser steps per refit")
    parser.add_argument(
        "--refit-every",
        type=int,
        default=16_384,
        help="--reward learned: refit the reward every N env steps (0: never)",
    )
    args = parser.parse_args(argv)
    print("torch threads per run: 1 (two runs fit side by side on 2 cores)", flush=True)

    from robrew.eval.report import write_report
    from robrew.io import write_json_atomic

    runs = args.gt_runs or args.out / "runs"
    missing = [p for p in args.poses if args.eval_only and not (runs / p / "metrics.json").exists()]
    if missing:
        parser.error(f"--eval-only: no finished run for {', '.join(missing)} under {args.out} (train them first)")
    videos = args.out / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    if args.reward == "learned":
        return run_learned(args, runs, videos)
    rows = []
    for pose in args.poses:
        if not args.eval_only:
            train_pose(pose, runs / pose, args.steps, args.seed)
        rows.append({k: v for k, v in evaluate_pose(pose, runs / pose, args.episodes, videos).items() if k != "eval"})
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
