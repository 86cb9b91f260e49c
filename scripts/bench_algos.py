"""Benchmark (not a test): the registered RL algorithms against each other on one task.

Each algorithm (``--algos``, default the off-policy ones: sac, tqc) trains ``robrew-train
task=<task> algo=<name>`` with the task family's defaults, ``--steps`` env steps, for each seed;
evaluations along the way (``--evals`` points of ``--eval-episodes``) and a final ground-truth
success over ``--final-episodes`` (Wilson 95% CI, seeds 20000..). Prints a table (final success,
steps to 80%, env steps/s, wall time) and the curves; writes ``results.json`` and ``curves.png``.

Usage:
    python scripts/bench_algos.py [--task tabletop_reach] [--algos sac tqc] [--seeds 2] [--steps 10000]
        [--n-envs 1] [--evals 5] [--eval-episodes 20] [--final-episodes 50] [--jobs 2] [--out runs/bench_algos]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)
from robrew.agents.registry import ALGORITHMS, get_algorithm

FINAL_SEED = 20_000


def run_one(algo: str, seed: int, args) -> dict:
    """Trains one algorithm on one seed; returns its curve, final success, speed and wall time."""
    from robrew.eval.evaluate import evaluate_run
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import TaskConfig, TrainConfig
    from robrew.training.train import train

    run_dir = Path(args.out) / f"{algo}_seed{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    cfg = TrainConfig(
        task=TaskConfig(args.task),
        reward=RewardConfig(name="env"),
        algo=get_algorithm(algo).config(),
        seed=seed,
        n_envs=args.n_envs,
        total_timesteps=args.steps,
        checkpoint_every=args.steps,
        eval_every=max(1, args.steps // args.evals),
        eval_episodes=args.eval_episodes,
        progress_bar=False,
        torch_threads=1 if args.jobs > 1 else 0,
    )
    start = time.perf_counter()
    metrics = train(cfg, run_dir)
    wall = time.perf_counter() - start
    final = evaluate_run(run_dir, episodes=args.final_episodes, videos=0, seed=FINAL_SEED)
    lines = (run_dir / "curve.csv").read_text().splitlines()[1:]
    curve = [(float(t), float(s)) for t, s, *_ in (line.split(",") for line in lines)]
    return {
        "algo": algo,
        "seed": seed,
        "curve": curve,
        "final": final["success_rate"],
        "steps_per_s": metrics.get("env_steps_per_s"),
        "wall_s": wall,
    }


def report(results: list[dict], out: Path) -> None:
    from robrew.plotting import success_curves

    print(f"\n{'algo':<6} {'seed':>4} {'final':>6} {'95% CI':>13} {'steps to 80%':>13} {'steps/s':>8} {'wall':>7}")
    for r in results:
        f = r["final"]
        to80 = next((int(t) for t, s in r["curve"] if s >= 0.8), None)
        print(
            f"{r['algo']:<6} {r['seed']:>4} {f['mean']:>6.0%} [{f['low']:>4.0%}, {f['high']:>4.0%}] "
            f"{to80 if to80 is not None else 'never':>13} {r['steps_per_s'] or 0:>8.0f} {r['wall_s']:>6.0f}s"
        )
    for r in results:
        print(f"curve {r['algo']} seed {r['seed']}: " + ", ".join(f"{int(t)}:{s:.0%}" for t, s in r["curve"]))
    success_curves(out / "curves.png", {f"{r['algo']} (seed {r['seed']})": tuple(zip(*r["curve"])) for r in results})
    print(f"wrote {out / 'curves.png'} and {out / 'results.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="tabletop_reach")
    off_policy = [n for n, a in ALGORITHMS.items() if a.off_policy]
    parser.add_argument("--algos", nargs="+", default=off_policy, choices=sorted(ALGORITHMS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--n-envs", type=int, default=1)
    parser.add_argument("--evals", type=int, default=5)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--final-episodes", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (each on one torch thread)")
    parser.add_argument("--out", default="runs/bench_algos")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(a, s) for s in range(args.first_seed, args.first_seed + args.seeds) for a in args.algos]
    print(f"bench_algos: {args.task}, {args.algos}, {args.seeds} seed(s), {args.steps} steps, {args.jobs} job(s)")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_one, *zip(*jobs), [args] * len(jobs)))
    (out / "results.json").write_text(json.dumps(results, indent=1))
    report(results, out)


if __name__ == "__main__":
    main()
