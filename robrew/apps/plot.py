"""``robrew-plot``: learning curves of several runs (e.g. seeds of a sweep) with confidence bands.

Reads each run's ``curve.csv`` (ground-truth success and env return logged during
training), puts them on a common step grid, and plots the mean with a 95% t-interval.

Usage:
    robrew-plot multirun/2026-11-22_10-00-00/* --out curves.png [--metric success_rate]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robrew.eval.curves import METRICS, plot_curves


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="robrew-plot", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (with curve.csv)")
    parser.add_argument("--metric", choices=METRICS, default="success_rate")
    parser.add_argument("--out", type=Path, default=Path("curves.png"))
    parser.add_argument(
        "--group-by", choices=("task", "none"), default="task", help="one curve per task, or all runs together"
    )
    args = parser.parse_args(argv)
    from omegaconf import OmegaConf

    groups: dict[str, list[Path]] = {}
    for run in args.runs:
        cfg = run / "config.yaml"
        label = OmegaConf.load(cfg).task.name if args.group_by == "task" and cfg.is_file() else "runs"
        groups.setdefault(label, []).append(run)
    try:
        plot_curves(groups, args.metric, args.out)
    except FileNotFoundError as e:
        print(f"robrew-plot: error: {e}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {args.out} ({sum(map(len, groups.values()))} runs, {len(groups)} curves)")


if __name__ == "__main__":
    main()
