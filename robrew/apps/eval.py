"""``robrew-eval``: evaluate a run or checkpoint on the environment's ground truth.

Usage:
    robrew-eval runs/tabletop_push/2026-11-22_10-00-00 --episodes 20 --videos 3
    robrew-eval runs/.../checkpoints/step_0000100000 --out eval_100k

Writes eval.json, episode_XX.mp4 (reward trace drawn over the frames), PNG plots and a
self-contained report.html to <run>/eval (or --out).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="robrew-eval", description="Evaluate a robrew run on ground truth.")
    parser.add_argument("path", help="run directory or checkpoint directory")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--videos", type=int, default=2, help="record the first N episodes")
    parser.add_argument("--seed", type=int, default=20_000)
    parser.add_argument("--out", default=None, help="output directory (default: <run>/eval)")
    args = parser.parse_args(argv)

    from robrew.eval.evaluate import evaluate_run
    from robrew.runs import ConfigError, resolve_checkpoint

    try:
        out = args.out or resolve_checkpoint(args.path)[0] / "eval"
        r = evaluate_run(args.path, args.episodes, args.videos, args.seed, out)
    except ConfigError as e:
        print(f"robrew-eval: error: {e}", file=sys.stderr)
        sys.exit(2)
    sr = r["success_rate"]
    print(
        f"{r['task']} @ {r['num_timesteps']} steps: true success {sr['mean']:.0%} (95% CI "
        f"{sr['low']:.0%}-{sr['high']:.0%}, n={sr['n']})"
    )
    print(f"env return {r['env_return']['mean']:.2f} ± {r['env_return']['std']:.2f}", end="")
    if r["model_return"]:
        print(f"; model return {r['model_return']['mean']:.3f} ± {r['model_return']['std']:.3f}", end="")
    print(f"\nreport: {out}/report.html")


if __name__ == "__main__":
    main()
