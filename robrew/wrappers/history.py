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

from robrew.rewards.windows import causal_window_indices


class EpisodeHistory:
    """Inputs of each env since its episode start; :meth:`push` returns the current windows."""

    def __init__(self, n_envs: int, window: int):
        self.window = int(window)
        self._buf: list[list[np.ndarray]] = [[] for _ in range(n_envs)]

    def start(self, i: int, first: np.ndarray | None) -> None:
        """Env ``i`` begins an episode; ``first`` is its reset input (``None`` if unavailable,
        e.g. frames, which SB3 workers only render inside steps: the window then starts at
        the episode's first scored frame)."""
        self._buf[i] = [np.asarray(first)] if first is not None else []

    def push(self, x: np.ndarray) -> np.ndarray:
        """Appends one input per env; returns (n_envs, window, ...) causal windows ending now."""
        for b, xi in zip(self._buf, x):
            b.append(np.asarray(xi))
        return self.current()

    def current(self, envs: list[int] | None = None) -> np.ndarray:
        """The windows ending at each env's latest input."""
        rows = range(len(self._buf)) if envs is None else envs
        out = []
        for i in rows:
            b = self._buf[i]
            out.append(np.stack([b[j] for j in causal_window_indices(len(b) - 1, self.window)]))
        return np.stack(out)
