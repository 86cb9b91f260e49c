"""Atomic, resumable checkpoints in a run directory.

A checkpoint is a directory ``checkpoints/step_<N>/`` holding ``model.zip``, optionally
``vecnormalize.pkl`` and ``replay_buffer.pkl``, and ``state.json``. It is written under
a temporary name and renamed into place, then ``checkpoints/latest.json`` is replaced
atomically to point at it; a process killed at any moment leaves either the old or the
new checkpoint complete, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback

LATEST = "latest.json"


def write_json_atomic(path: Path, data: dict) -> None:
    """Writes ``data`` as JSON to ``path`` via a temporary file and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(run_dir: Path, model, vec_normalize=None, keep: int = 3) -> Path:
    """Saves model (+ VecNormalize stats, + SAC replay buffer) as a new checkpoint.

    Args:
        run_dir: The run directory.
        model: The SB3 model.
        vec_normalize: The ``VecNormalize`` wrapper, if used.
        keep: How many checkpoints to keep (oldest are deleted after the new one is live).

    Returns:
        The checkpoint directory.
    """
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    step = int(model.num_timesteps)
    final = root / f"step_{step:010d}"
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        model.save(tmp / "model.zip")
        if vec_normalize is not None:
            vec_normalize.save(str(tmp / "vecnormalize.pkl"))
        if hasattr(model, "replay_buffer") and model.replay_buffer is not None:
            model.save_replay_buffer(tmp / "replay_buffer.pkl")
        write_json_atomic(tmp / "state.json", {"num_timesteps": step, "saved_at": time.time()})
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_json_atomic(root / LATEST, {"checkpoint": final.name, "num_timesteps": step})
    for old in sorted(root.glob("step_*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The live checkpoint directory of ``run_dir``, or ``None`` if it has none."""
    pointer = run_dir / "checkpoints" / LATEST
    if not pointer.is_file():
        return None
    path = run_dir / "checkpoints" / json.loads(pointer.read_text())["checkpoint"]
    return path if (path / "model.zip").is_file() else None


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
        self._last = self.model.num_timesteps
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
            self._last = self.model.num_timesteps
        return True
