"""Atomic file writes and strict JSON: the one way robrew puts a file on disk.

A file is written to a temporary sibling, flushed, and renamed over its target, so a
process killed at any moment leaves the old file or the new one, never half of either.
New files get the permissions an ordinary ``open()`` would give under the current umask
(``mkstemp`` alone would make them 0600). JSON is strict: NaN and ±inf become ``null``,
so any JSON parser reads what robrew writes.

Example:
    >>> write_json_atomic(Path("out/metrics.json"), {"success": 0.8, "auc": float("nan")})
    >>> Path("out/metrics.json").read_text()
    '{\\n  "success": 0.8,\\n  "auc": null\\n}'
    >>> atomic_path(Path("out/policy.safetensors"), lambda tmp: save_file(state, tmp))
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process's umask (read without changing it), for modes an ordinary ``open()`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_path(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Calls ``write(tmp)`` with a temporary path beside ``path``, then renames it onto ``path``.

    Args:
        path: The target file (its directory must exist).
        write: Writes the whole file to the path it is given (e.g. ``safetensors.save_file``).

    Returns:
        ``path`` as a Path. On any error the temporary file is removed and the old file, if
        any, is untouched.
    """
    path = Path(path)
    # The temporary name ends in the target's suffix: writers that pick a format by it (ffmpeg) keep working.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically (fsynced before the rename)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return atomic_path(path, write)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Writes ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def json_safe(data: Any) -> Any:
    """``data`` with every non-finite float replaced by ``None`` (dicts, lists, tuples walked)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: json_safe(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(v) for v in data]
    if hasattr(data, "item") and getattr(data, "ndim", None) == 0:  # numpy scalars
        return json_safe(data.item())
    return data


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Writes ``data`` as strict, indented JSON to ``path`` atomically (NaN/inf -> null)."""
    return write_text_atomic(path, json.dumps(json_safe(data), indent=2, allow_nan=False))


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of one file's bytes."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def dir_sha256(directory: str | os.PathLike) -> dict[str, str]:
    """``{file name: sha256 hex}`` of every file directly in ``directory`` (what a run records of a
    checkpoint or policy it depends on, to refuse a resume after it changed).

    Example:
        >>> dir_sha256("runs/rabc/policies/rabc")    # {"bc_policy.json": "3f1c...", "policy.safetensors": "..."}
    """
    files = sorted(p for p in Path(directory).iterdir() if p.is_file())
    return {p.name: file_sha256(p) for p in files}


def changed_files(saved: dict[str, str], now: dict[str, str]) -> list[str]:
    """The names whose hash differs between two :func:`dir_sha256` records (added or removed too)."""
    return sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))


def replace_dir(new: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Moves the complete directory ``new`` to ``target``; an old ``target`` is moved aside first
    and deleted only once the new one is in place (a kill in between leaves it as ``.old-*``), so
    a reader finds the old directory or the new one, never a half-written one. Returns ``target``.

    Example:
        >>> staging = Path(tempfile.mkdtemp(dir=run_dir))
        >>> save_reward_model(model, staging); replace_dir(staging, run_dir / "reward_refit")
    """
    import shutil

    new, target = Path(new), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
