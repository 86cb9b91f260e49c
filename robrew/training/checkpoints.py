"""Checkpoints during training: every N steps, and on SIGINT/SIGTERM before stopping.
The checkpoint format itself (atomic step directories, ``latest.json``) is :mod:`robrew.runs`.
"""

from __future__ import annotations

import signal
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback

from robrew.runs import save_checkpoint


class CheckpointCallback(BaseCallback):
    """Saves every ``every`` steps, and on SIGINT/SIGTERM saves then stops training.

    ``stopped_by_signal`` tells the caller training ended early.
    """

    def __init__(self, run_dir: Path, every: int, vec_normalize=None):
        super().__init__()
        self.run_dir, self.every, self.vec_normalize = run_dir, int(every), vec_normalize
        self._last = 0
        self._signal: int | None = None
        self.stopped_by_signal = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        self._signal = signum

    def _on_training_start(self) -> None:
        self._last = self.model.num_timesteps // self.every * self.every  # a resumed run keeps the schedule
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. some launchers): no handlers
                pass

    def _on_training_end(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_step(self) -> bool:
        if self._signal is not None:
            save_checkpoint(self.run_dir, self.model, self.vec_normalize)
            self.stopped_by_signal = True
            return False
        if self.model.num_timesteps - self._last >= self.every:
            save_checkpoint(self.run_dir, self.model, self.vec_normalize)
            self._last = self.model.num_timesteps // self.every * self.every
        return True
