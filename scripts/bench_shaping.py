"""Benchmark (not a test): PPO on tabletop push with the sparse success reward alone, against
the same reward plus potential-based shaping by a state-only progress model
(r' = r_sparse + γ Φ(s') - Φ(s), γ = PPO's), same budget and seeds.

Steps: collect mixed push demos -> train the progress model -> two ``robrew-train`` runs per
seed (in parallel) -> both ground-truth success curves (``curve.csv``) printed side by side,
and plotted to ``curves.png``.

Usage:
    python scripts/bench_shaping.py [--steps 150000] [--seeds 1] [--out runs/bench_shaping]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)

BIN = Path(sys.executable).parent


def train_cmd(task: str, run_dir: Path, seed: int, steps: int, gamma: float, extra: list[str]) -> list[str]:
    return [
        str(BIN / "robrew-train"),
        f"task=tabletop_{task}_sparse",
        f"seed={seed}",
        f"total_timesteps={steps}",
        f"algo.params.gamma={gamma}",
        f"eval_every={max(steps // 10, 1000)}",
        "eval_episodes=20",
        "progress_bar=false",
        "torch_threads=1",
        f"run_dir={run_dir}",
        f"hydra.run.dir={run_dir}/hydra",
        *extra,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--demos", type=int, default=60, help="episodes to record (exploration ones included)")
    parser.add_argument(
        "--explore",
        type=float,
        default=0.0,
        help="fraction of exploration episodes (random waypoints, labelled no progress) among the demos",
    )
    parser.add_argument(
        "--task", default="push", choices=("push", "reach"), help="tabletop task (its _sparse variant for PPO)"
    )
    parser.add_argument("--gamma", type=float, default=0.99, help="PPO's γ, also the shaping γ (same for both runs)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="potential scale k (Φ = k·progress; still policy-invariant); ~ the value of success, e.g. 1/(1-γ)",
    )
    parser.add_argument(
        "--ensemble",
        type=int,
        default=1,
        help="K > 1: Φ = min over K progress models (seeds 0..K-1), pessimistic off the demo distribution",
    )
    parser.add_argument(
        "--override",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="robrew-train overrides for both runs, e.g. normalize=true algo.params.learning_rate=3e-4",
    )
    parser.add_argument("--out", default="runs/bench_shaping")
    args = parser.parse_args()
    from robrew.data.demos import collect_demos, load_demos, mix_with_exploration
    from robrew.rewards import save_reward_model
    from robrew.training.progress import ProgressTrainConfig, fit_progress_model

    out = Path(args.out).resolve()
    start = time.perf_counter()
    demos = load_demos(
        collect_demos(
            f"tabletop_{args.task}",
            out / "data",
            args.demos,
            mix=mix_with_exploration(args.explore),
            seed=0,
            image_size=16,
        )
    )
    fits = [fit_progress_model(demos, ProgressTrainConfig(steps=3000, seed=k)) for k in range(args.ensemble)]
    model, report = fits[0]
    if args.ensemble > 1:
        from robrew.rewards.ensemble import EnsembleReward

        model = EnsembleReward([m for m, _ in fits], mode="min")
    save_reward_model(model, out / "progress")
    print(
        f"progress model on {args.task} demos: held-out VOC {report.get('voc_clean', float('nan')):.3f}, "
        f"success AUC {report['success_auc']:.3f} ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    shaped = [
        f"reward.name={'ensemble' if args.ensemble > 1 else 'progress'}",
        f"reward.checkpoint={out / 'progress'}",
        "reward.composition=potential",
        f"reward.model_weight={args.scale}",
    ]
    runs = {}
    for seed in range(args.seeds):
        procs = {}
        for name, extra in (("sparse", []), ("shaped", shaped)):
            run_dir = out / f"{name}_seed{seed}"
            shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run, not appended to an old curve
            procs[name] = subprocess.Popen(
                train_cmd(args.task, run_dir, seed, args.steps, args.gamma, [*args.override, *extra]),
                cwd="/tmp",
                stdout=subprocess.DEVNULL,
            )
            runs.setdefault(name, []).append(run_dir)
        for name, p in procs.items():
            if p.wait() != 0:
                sys.exit(f"the {name} run (seed {seed}) failed with exit code {p.returncode}")
    print(
        f"\nPPO (γ = {args.gamma}, potential scale {args.scale:g}) on tabletop_{args.task}, "
        f"{args.steps} steps, ground-truth success (20 episodes per point), seeds 0..{args.seeds - 1}"
    )
    print(f"{'steps':>8}{'sparse':>10}{'sparse + shaping':>18}")
    from robrew.eval.curves import plot_curves, read_curve

    curves = {name: [read_curve(d) for d in dirs] for name, dirs in runs.items()}
    for i, step in enumerate(curves["sparse"][0]["timesteps"]):
        cols = [
            np.mean([c["success_rate"][i] for c in curves[n] if i < len(c["success_rate"])])
            for n in ("sparse", "shaped")
        ]
        print(f"{int(step):>8}{cols[0]:>10.0%}{cols[1]:>18.0%}")
    finals = {n: float(np.mean([c["success_rate"][-1] for c in cs])) for n, cs in curves.items()}
    print(
        f"final: sparse {finals['sparse']:.0%}, shaped {finals['shaped']:.0%}; "
        f"total {time.perf_counter() - start:.0f} s"
    )
    groups = {"sparse success reward": runs["sparse"], "sparse + potential shaping (progress model)": runs["shaped"]}
    print(f"plot: {plot_curves(groups, 'success_rate', out / 'curves.png', 'PPO on tabletop ' + args.task)}")


if __name__ == "__main__":
    main()
