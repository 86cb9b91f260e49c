"""A run's checkpoints: written under a temporary name and renamed into place, then
``latest.json`` replaced atomically; found again by :func:`latest_checkpoint` and
:func:`resolve_checkpoint`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from robrew.io import current_umask, write_json_atomic
from robrew.agents.learner_state import LEARNER_JSON, LEARNER_TENSORS, save_learner_state, save_normalizer
from robrew.runs.config import CHECKPOINTS, CONFIG_FILE, LATEST, MODEL_FILE, NORMALIZER_FILE, ConfigError

# ---- checkpoints ----------------------------------------------------------------------------


def _is_checkpoint(path: Path) -> bool:
    return (path / LEARNER_JSON).is_file() and (path / LEARNER_TENSORS).is_file()


def save_checkpoint(run_dir: Path, model, vec_normalize=None, keep: int = 3) -> Path:
    """Saves the learner (+ VecNormalize statistics, + SAC replay buffer) as a new checkpoint,
    no pickles (:mod:`robrew.agents.learner_state`).

    Written under a temporary name and renamed into place; then ``latest.json`` is replaced.
    A checkpoint of the same step that is already complete is kept as it is (nothing trained
    since), so the live checkpoint is never deleted before its replacement exists. Stale
    temporary directories of killed saves are removed (the run lock makes this the only writer).

    Args:
        run_dir: The run directory.
        model: The SB3 model.
        vec_normalize: The ``VecNormalize`` wrapper, if used.
        keep: How many checkpoints to keep (oldest are deleted after the new one is live).

    Returns:
        The checkpoint directory.
    """
    root = Path(run_dir) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    step = int(model.num_timesteps)
    final = root / f"step_{step:010d}"
    if not _is_checkpoint(final):
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
        try:
            os.chmod(tmp, 0o777 & ~current_umask())
            save_learner_state(model, tmp)
            if vec_normalize is not None:
                save_normalizer(vec_normalize, tmp)
            write_json_atomic(tmp / "state.json", {"num_timesteps": step, "saved_at": time.time()})
            if final.exists():  # an incomplete leftover of the same step
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
    """The live checkpoint of ``run_dir``: the one ``latest.json`` names, or, when that pointer
    is missing, garbage or dangling, the newest complete ``step_*``; ``None`` if there is none."""
    root = Path(run_dir) / CHECKPOINTS
    try:
        path = root / json.loads((root / LATEST).read_text())["checkpoint"]
        if _is_checkpoint(path):
            return path
    except (OSError, ValueError, KeyError, TypeError):
        pass
    complete = [p for p in sorted(root.glob("step_*")) if _is_checkpoint(p)]
    return complete[-1] if complete else None


def resolve_checkpoint(path: str | Path) -> tuple[Path, Path]:
    """(run directory, checkpoint directory) for a run dir (its live checkpoint) or a checkpoint dir.

    Raises:
        ConfigError: ``path`` is neither, the run has no checkpoint yet, or it was written by an
            older robrew (SB3 pickles, which robrew does not load).
    """
    path = Path(path)
    if (path / MODEL_FILE).is_file() or list(path.glob(f"{CHECKPOINTS}/step_*/{MODEL_FILE}")):
        if not _is_checkpoint(path) and latest_checkpoint(path) is None:
            raise ConfigError(
                f"{path}: written by an older robrew (SB3 {MODEL_FILE} / {NORMALIZER_FILE} pickles, which run code "
                "when loaded); robrew no longer loads them: retrain the run with this version"
            )
    if _is_checkpoint(path):
        return path.parents[1], path
    if (path / CONFIG_FILE).is_file():
        ckpt = latest_checkpoint(path)
        if ckpt is None:
            raise ConfigError(f"{path}: run has no checkpoint yet ({CHECKPOINTS}/{LATEST})")
        return path, ckpt
    raise ConfigError(f"{path}: neither a run directory ({CONFIG_FILE}) nor a checkpoint ({LEARNER_JSON})")
