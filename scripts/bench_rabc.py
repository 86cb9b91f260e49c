"""Benchmark (not a test): plain BC vs RA-BC vs return-weighted BC on mixed-quality
pick-and-place demonstrations, 3 seeds (each seed: its own demos, progress model, policies).

Targets: RA-BC success >= plain BC + 20 points; progress model VOC >= 0.9 on clean
held-out demos and <= -0.5 reversed; success AUC >= 0.9.

Usage:
    python scripts/bench_rabc.py [--seeds 3] [--episodes 150] [--out runs/bench_rabc]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)
from robrew.jobs.rabc import METHOD_NAMES, RabcExperimentConfig, run_rabc_experiment
from robrew.threads import usable_cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=150)
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--out", default="runs/bench_rabc")
    args = parser.parse_args()
    print(f"torch threads: {usable_cores()} (robrew-rabc's default: the usable cores)", flush=True)
    methods = ["none", "rabc", "return"]
    rows = []
    start = time.perf_counter()
    for seed in range(args.seeds):
        cfg = RabcExperimentConfig(
            episodes=args.episodes,
            eval_episodes=args.eval_episodes,
            methods=methods,
            videos=0,
            seed=seed,
            out_dir=f"{args.out}/seed{seed}",
        )
        r = run_rabc_experiment(cfg)
        pm = r["progress_model"]
        row = {m: r["policies"][m]["success_rate"]["mean"] for m in methods}
        row.update(
            weight=r["policies"]["rabc"]["mean_weight"],
            voc=pm["voc_clean"],
            rev=pm["voc_reversed"],
            auc=pm["success_auc"],
        )
        rows.append(row)
        print(
            f"seed {seed}: "
            + ", ".join(f"{METHOD_NAMES[m]} {row[m]:.0%}" for m in methods)
            + f"; RA-BC mean weight {row['weight']:.2f}; VOC {row['voc']:.3f} reversed {row['rev']:.3f} "
            f"AUC {row['auc']:.3f}",
            flush=True,
        )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    std = {k: float(np.std([r[k] for r in rows])) for k in rows[0]}
    print(
        f"\n{args.seeds} seeds x {args.episodes} demos (1/3 clean, 1/3 sloppy, 1/3 failing), "
        f"{args.eval_episodes} held-out episodes per policy"
    )
    print(f"{'':<28}{'mean':>8}{'std':>8}")
    for m in methods:
        print(f"{METHOD_NAMES[m] + ' success':<28}{mean[m]:>8.0%}{std[m]:>8.0%}")
    for k, name in (
        ("weight", "RA-BC mean weight"),
        ("voc", "VOC clean"),
        ("rev", "VOC reversed"),
        ("auc", "success AUC"),
    ):
        print(f"{name:<28}{mean[k]:>8.3f}{std[k]:>8.3f}")
    gain = mean["rabc"] - mean["none"]
    checks = {
        "RA-BC >= BC + 20 points": gain >= 0.20,
        "VOC >= 0.9": mean["voc"] >= 0.9,
        "reversed VOC <= -0.5": mean["rev"] <= -0.5,
        "success AUC >= 0.9": mean["auc"] >= 0.9,
    }
    print(
        f"\nRA-BC - BC = {gain * 100:+.0f} points; "
        + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in checks.items())
    )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
