"""Per-env episode history for reward models that look at a causal window of frames
(``model.window > 1``, e.g. a windowed progress model): the wrapper keeps each env's
inputs since its episode began and hands the model one window per env and step.

Example:
    >>> hist = EpisodeHistory(n_envs=2, window=3)
    >>> hist.start(0, np.zeros(4)); hist.start(1, np.ones(4))
    >>> hist.push(np.stack([np.full(4, 2.0), np.full(4, 3.0)])).shape
    (2, 3, 4)
"""

from __future__ import annotations

import numpy as np

from robrew.rewards.progress.windows import causal_window_indices


class EpisodeHistory:
    """Inputs of each env since its episode start; :meth:`push` returns the current windows."""

    def __init__(self, n_envs: int, window: int):
        self.window = int(window)
        self._buf: list[list[np.ndarray]] = [[] for _ in range(n_envs)]

    def start(self, i: int, first: np.ndarray | None) -> None:
        """Env ``i`` begins an episode; ``first`` is its reset input (the window's anchor;
        ``None`` if unavailable: the window then starts at the episode's first scored input)."""
        self._buf[i] = [np.asarray(first)] if first is not None else []

    def push(self, x: np.ndarray, envs: list[int] | None = None) -> np.ndarray:
        """Appends one input per env of ``envs`` (default: all, in order); returns their
        (len(envs), window, ...) causal windows ending now."""
        rows = range(len(self._buf)) if envs is None else envs
        if len(x) != len(rows):
            raise ValueError(f"got {len(x)} inputs for {len(rows)} envs")
        for i, xi in zip(rows, x):
            self._buf[i].append(np.asarray(xi))
        return self.current(envs)

    def current(self, envs: list[int] | None = None) -> np.ndarray:
        """The windows ending at each env's latest input."""
        rows = range(len(self._buf)) if envs is None else envs
        out = []
        for i in rows:
            b = self._buf[i]
            out.append(np.stack([b[j] for j in causal_window_indices(len(b) - 1, self.window)]))
        return np.stack(out)
