"""Learning curves of several runs (e.g. seeds of a sweep) with confidence bands (``robrew-plot``).

Reads each run's ``curve.csv`` (ground-truth success and env return logged during
training), puts them on a common step grid, and plots the mean with a 95% t-interval.

Usage:
    robrew-plot multirun/2026-11-22_10-00-00/* --out curves.png [--metric success_rate]
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import stats

from robrew.plotting import figure

METRICS = ("success_rate", "env_return")


def read_curve(run_dir: Path) -> dict[str, np.ndarray]:
    """Every column of ``run_dir/curve.csv`` (``timesteps``, ``success_rate``, ``env_return`` and,
    for runs with a reward model, ``model_return``) as float arrays; a torn last line, from a
    killed run, is skipped."""
    path = Path(run_dir) / "curve.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no learning curve (did the run evaluate? eval_episodes > 0)")
    rows = []
    with path.open() as f:
        reader = csv.DictReader(f)
        for row in reader:
            try:
                rows.append({k: float(v) for k, v in row.items()})
            except (TypeError, ValueError):
                continue
    return {k: np.array([r[k] for r in rows]) for k in reader.fieldnames or ("timesteps", *METRICS)}


def aggregate(curves: list[dict[str, np.ndarray]], metric: str, points: int = 50) -> dict[str, np.ndarray]:
    """Mean and 95% t-interval of ``metric`` over runs, on a shared step grid (interpolated)."""
    end = min(c["timesteps"].max() for c in curves)
    start = max(c["timesteps"].min() for c in curves)
    grid = np.linspace(start, end, points)
    values = np.stack([np.interp(grid, c["timesteps"], c[metric]) for c in curves])
    mean = values.mean(0)
    n = len(curves)
    half = stats.t.ppf(0.975, n - 1) * values.std(0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros_like(mean)
    return {"timesteps": grid, "mean": mean, "low": mean - half, "high": mean + half, "runs": values}


def plot_curves(groups: dict[str, list[Path]], metric: str, out: Path, title: str = "") -> Path:
    """One line with a band per group of runs; writes ``out`` (PNG)."""
    with figure(out, dpi=120, figsize=(6.5, 4)) as (fig, ax):
        for label, runs in groups.items():
            agg = aggregate([read_curve(r) for r in runs], metric)
            ax.plot(agg["timesteps"], agg["mean"], label=f"{label} (n={len(runs)})")
            low, high = agg["low"], agg["high"]
            if metric == "success_rate":  # a rate's band stays inside [0, 1]
                low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
            ax.fill_between(agg["timesteps"], low, high, alpha=0.25)
        ax.set_xlabel("environment steps")
        ax.set_ylabel(f"{metric.replace('_', ' ')} (ground truth)")
        ax.set_title(title or metric)
        ax.legend()
    return out
