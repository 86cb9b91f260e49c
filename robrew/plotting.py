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
