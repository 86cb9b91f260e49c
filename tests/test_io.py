"""Atomic writes and strict JSON: old file kept on failure, no temporary litter, umask honoured,
NaN written as null."""

import json
import os

import pytest

from robrew.io import atomic_path, write_json_atomic, write_text_atomic


def test_strict_json_and_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json_atomic(tmp_path / "r.json", {"auc": float("nan"), "x": [1.0, float("inf")], "ok": 0.5})
    finally:
        os.umask(old)
    assert json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"bare {c}")) == {
        "auc": None,
        "x": [1.0, None],
        "ok": 0.5,
    }
    assert (path.stat().st_mode & 0o777) == 0o644


def test_failure_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = write_text_atomic(tmp_path / "model.bin", "old")

    def broken(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_path(target, broken)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["model.bin"]
    # The temporary name keeps the target's suffix (writers that choose a format by it).
    seen = []
    atomic_path(tmp_path / "clip.mp4", lambda tmp: (seen.append(tmp), open(tmp, "w").close()))
    assert seen[0].endswith(".mp4") and (tmp_path / "clip.mp4").exists()
