"""robrew-collect never loses a dataset: an existing one is refused without --overwrite, and
with it the new one is collected beside the old and swapped in only when complete, so a bad
flag, an error or Ctrl-C part-way leaves the old dataset exactly as it was."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robrew.apps.collect import main

DATASET = Path("robrew/tabletop_reach/expert-mixed-v0")


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def collect(capsys, out: Path, *flags: str) -> tuple[int, str]:
    code = 0
    try:
        main(["--task", "tabletop_reach", "--episodes", "2", "--image-size", "16", "--out", str(out), *flags])
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err.strip()


@pytest.fixture
def existing(tmp_path, capsys):
    assert collect(capsys, tmp_path)[0] == 0
    return tmp_path, digest(tmp_path / DATASET)


@pytest.mark.parametrize(
    "flags, message",
    [
        ([], "exists; pass --overwrite"),
        (["--overwrite", "--image-size", "0"], "image_size must be positive"),
        (["--overwrite", "--episodes", "0"], "--episodes must be positive"),
        (["--overwrite", "--task", "tabletop_nope"], "tabletop_nope"),
    ],
)
def test_refused_collects_leave_the_dataset_untouched(existing, capsys, flags, message):
    root, before = existing
    code, err = collect(capsys, root, *flags)
    # One line (argparse's usage errors print the usage first: the error is the last line).
    assert code == 2 and message in err.splitlines()[-1] and "Traceback" not in err, err
    assert digest(root / DATASET) == before
    assert sorted(p.name for p in root.iterdir()) == ["robrew"]  # no staging litter


def test_overwrite_replaces_only_when_complete(existing, capsys):
    root, before = existing
    assert collect(capsys, root, "--overwrite", "--seed", "5")[0] == 0
    after = digest(root / DATASET)
    assert after != before and set(after) == set(before)  # a new dataset, same layout
    assert sorted(p.name for p in root.iterdir()) == ["robrew"]
    assert not [p for p in (root / DATASET).parent.iterdir() if p.name.startswith(".old-")]


def test_out_pointing_at_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "f").write_text("mine")
    code, err = collect(capsys, tmp_path / "f", "--overwrite")
    assert code == 2 and "is a file" in err and (tmp_path / "f").read_text() == "mine"


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_ctrl_c_part_way_keeps_the_old_dataset(existing, workers, inherited):
    """In one process and with worker processes; also where robrew-collect started with SIGINT
    ignored (a background job of a non-interactive shell, a test runner's worker)."""
    root, before = existing
    cmd = [
        str(Path(sys.executable).parent / "robrew-collect"),
        "--task",
        "tabletop_reach",
        "--episodes",
        "400",
        "--image-size",
        "16",
        "--out",
        str(root),
        "--overwrite",
        "--workers",
        workers,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start_ignoring_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN if inherited == "ignored" else signal.SIG_DFL)

    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, env=env, cwd=root.parent, preexec_fn=start_ignoring_sigint
    )
    start = time.time()
    while not list(root.glob(".write-*/**/*.hdf5")):
        assert proc.poll() is None and time.time() - start < 120, "collection did not start"
        time.sleep(0.1)
    time.sleep(1.0)  # some episodes in
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "nothing in" in err and "Traceback" not in err, err
    assert digest(root / DATASET) == before
    assert sorted(p.name for p in root.iterdir()) == ["robrew"]
