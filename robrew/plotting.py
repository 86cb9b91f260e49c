"""The one way robrew draws a plot: a headless matplotlib figure, saved atomically as a PNG and
closed, whatever happens inside.

Example:
    >>> with figure("curve.png", figsize=(5, 3)) as (fig, ax):
    ...     ax.plot([0, 1], [0, 1])
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def figure(path: str | Path, nrows: int = 1, ncols: int = 1, dpi: int = 100, **subplots: Any) -> Iterator[tuple]:
    """Yields ``(fig, ax)`` (``ax`` an array when ``nrows * ncols > 1`` or ``squeeze=False``);
    on a clean exit lays it out and writes ``path`` (atomically); always closes the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from robrew.io import atomic_path

    fig, ax = plt.subplots(nrows, ncols, **subplots)
    try:
        yield fig, ax
        fig.tight_layout()
        atomic_path(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    finally:
        plt.close(fig)


def success_curves(
    path: str | Path, curves: dict[str, tuple], levels: dict[str, float] | None = None, figsize=(7, 4)
) -> None:
    """Writes ground-truth success against env steps: one line per ``curves`` entry (label ->
    (steps, success)), one dashed level per ``levels`` entry (label -> success, e.g. a base policy).

    Example:
        >>> success_curves("curves.png", {"sac (seed 0)": ([2000, 4000], [0.1, 0.6])}, {"base": 0.9})
    """
    with figure(path, figsize=figsize) as (fig, ax):
        for label, value in (levels or {}).items():
            ax.axhline(value, ls="--", c="k", lw=1, label=label)
        for label, (steps, success) in curves.items():
            ax.plot(steps, success, marker="o", label=label)
        ax.set_xlabel("env steps")
        ax.set_ylabel("ground-truth success")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
