"""Benchmark (not a test): how robrew's costs grow, so a user knows what a 10x larger dataset or
more envs cost before running them. One run, three tables, each with the growth factor against
its first row:

1. The main job (``robrew-rabc`` defaults, one seed) at ``--episodes`` demonstrations: its phases
   (demos, progress model, BC, RA-BC, each with its evaluation) and the total.
2. The progress model's training time against the dataset's size (from the same runs: a fixed
   number of optimiser steps, so what grows is the data handling).
3. PPO with the progress model of the first run as its reward: env steps/s against ``--n-envs``,
   with the envs in this process (DummyVecEnv) and in subprocesses (SubprocVecEnv).

Usage:
    python scripts/bench_scaling.py [--episodes 150 300 600] [--n-envs 1 2 4 8 16] [--ppo-rollouts 3]
        [--out runs/bench_scaling]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)


def main_job_phases(episodes: list[int], out: Path) -> list[dict]:
    """Runs the main job once per demo count; returns one row each: its phase times and VOC."""
    from robrew.jobs.rabc import RabcExperimentConfig, run_rabc_experiment

    rows = []
    for n in episodes:
        result = run_rabc_experiment(RabcExperimentConfig(episodes=n, videos=0, out_dir=str(out / f"rabc_{n}")))
        rows.append({"episodes": n, **result["timings_s"], "voc": result["progress_model"]["voc_clean"]})
        print(f"  {n} episodes: {sum(result['timings_s'].values()):.0f} s", flush=True)
    return rows


def ppo_rates(rabc_dir: Path, n_envs: list[int], rollouts: int) -> list[dict]:
    """PPO with ``rabc_dir``'s progress model as the reward, ``rollouts`` rollouts per env count, in
    process and in subprocesses; returns one row each: ``{subprocess, n_envs, steps_per_s}``."""
    from robrew.agents.ppo import PpoConfig
    from robrew.rewards.factory import Composition, RewardConfig
    from robrew.runs import TaskConfig, TrainConfig
    from robrew.training.train import train

    rows = []
    for subprocess in (False, True):
        for n in n_envs:
            cfg = TrainConfig(
                task=TaskConfig("tabletop_pick_place"),
                reward=RewardConfig(
                    name="progress", checkpoint=str(rabc_dir / "progress_model"), composition=Composition.replace
                ),
                algo=PpoConfig(),
                n_envs=n,
                subprocess=subprocess,
                total_timesteps=rollouts * 512 * n,  # the tabletop family's n_steps = 512
                checkpoint_every=10**9,
                eval_every=10**9,
                eval_episodes=0,
                progress_bar=False,
            )
            run = Path(tempfile.mkdtemp(prefix="bench_scaling_"))
            try:
                metrics = train(cfg, run / "run")
            finally:
                shutil.rmtree(run, ignore_errors=True)
            rows.append({"subprocess": subprocess, "n_envs": n, "steps_per_s": metrics["env_steps_per_s"]})
            print(f"  subprocess={subprocess} n_envs={n}: {metrics['env_steps_per_s']:.0f} env steps/s", flush=True)
    return rows


def print_tables(phases: list[dict], rates: list[dict]) -> None:
    """Prints the three tables, each with the growth against its first row."""
    first = phases[0]
    keys = [k for k in first if k.endswith("_s")]
    print("\nmain job phases (s), growth against the first row in brackets")
    print(f"{'episodes':>8} " + " ".join(f"{k[:-2]:>20}" for k in keys) + f" {'total':>16}")
    for row in phases:
        cells = [f"{row[k]:8.1f} ({row[k] / first[k]:4.1f}x)" for k in keys]
        total, total0 = sum(row[k] for k in keys), sum(first[k] for k in keys)
        grown = f" {total:7.1f} ({total / total0:3.1f}x)"
        print(f"{row['episodes']:>8} " + " ".join(f"{c:>20}" for c in cells) + grown)
    print("\nprogress model training time vs dataset size")
    for row in phases:
        f = row["progress_model_s"] / first["progress_model_s"]
        print(
            f"  {row['episodes']:>5} episodes ({row['episodes'] / first['episodes']:.0f}x data): "
            f"{row['progress_model_s']:6.1f} s ({f:.2f}x), held-out VOC {row['voc']:.3f}"
        )
    for sub in (False, True):
        part = [r for r in rates if r["subprocess"] == sub]
        if not part:
            continue
        print(f"\nPPO with the progress reward, {'SubprocVecEnv' if sub else 'DummyVecEnv'}: env steps/s")
        for r in part:
            grown = r["steps_per_s"] / part[0]["steps_per_s"]
            print(f"  n_envs {r['n_envs']:>3}: {r['steps_per_s']:8.0f} ({grown:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, nargs="+", default=[150, 300, 600])
    parser.add_argument("--n-envs", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--ppo-rollouts", type=int, default=3, help="PPO rollouts timed per n_envs")
    parser.add_argument("--out", default="runs/bench_scaling")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("main job at", args.episodes, "episodes", flush=True)
    phases = main_job_phases(args.episodes, out)
    print("PPO env steps/s vs n_envs", flush=True)
    rates = ppo_rates(out / f"rabc_{args.episodes[0]}", args.n_envs, args.ppo_rollouts) if args.n_envs else []
    (out / "results.json").write_text(json.dumps({"phases": phases, "ppo": rates}, indent=1))
    print_tables(phases, rates)
    print(f"wrote {out / 'results.json'}")


if __name__ == "__main__":
    main()
