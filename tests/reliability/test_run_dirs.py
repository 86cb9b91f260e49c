"""Run directories as a careful user meets them: planted pickles are never executed, one writer
per run, resume does what it says, checkpoint pointers can break without losing the run,
config errors leave nothing behind, files respect the umask and JSON is strict. Each test
asserts the user-facing outcome: exit code, the one line shown, what is on disk."""

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent
TINY = [
    "task=tabletop_reach",
    "n_envs=2",
    "algo.params.n_steps=64",
    "algo.params.batch_size=64",
    "algo.params.n_epochs=1",
    "checkpoint_every=128",
    "eval_every=128",
    "eval_episodes=1",
    "progress_bar=false",
]


def run(args, cwd, timeout=300):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def one_line_error(out, fragment: str) -> None:
    err = out.stderr.strip()
    assert out.returncode == 2, (out.returncode, err[-2000:])
    assert "Traceback" not in err and fragment in err, err[-2000:]
    assert len(err.splitlines()) == 1, err


def strict_json(path: Path):
    return json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{path}: bare {c}"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished tiny run (256 steps, normalised observations), made once; tests copy it."""
    root = tmp_path_factory.mktemp("trained")
    out = run(["robrew-train", *TINY, "total_timesteps=256", "normalize=true", f"run_dir={root / 'run'}"], root)
    assert out.returncode == 0, out.stderr[-2000:]
    return root / "run"


@pytest.fixture
def copy(trained, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(trained, dst)
    (dst / ".lock").unlink(missing_ok=True)
    return dst


class Boom:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# ---- 2. nothing runs from files ---------------------------------------------------------


def test_planted_pickles_are_never_loaded(copy, tmp_path, run_clis):
    """A run dir in the old layout (SB3 model.zip + vecnormalize.pkl pickles) with code in them."""
    marker = tmp_path / "PWNED"
    shutil.rmtree(copy / "checkpoints")
    ckpt = copy / "checkpoints" / "step_0000000256"
    ckpt.mkdir(parents=True)
    (ckpt / "model.zip").write_bytes(pickle.dumps(Boom(marker)))
    (ckpt / "vecnormalize.pkl").write_bytes(pickle.dumps(Boom(marker)))
    (copy / "checkpoints" / "latest.json").write_text(json.dumps({"checkpoint": ckpt.name, "num_timesteps": 256}))
    evaluated, resumed = run_clis(
        [
            (["robrew-eval", copy, "--episodes", "1", "--videos", "0"], tmp_path),
            (["robrew-train", f"resume={copy}"], tmp_path),
        ]
    )
    one_line_error(evaluated, "older robrew")
    one_line_error(resumed, "nothing to resume")
    assert not marker.exists()


def test_checkpoints_hold_no_pickles(trained):
    import numpy as np

    for f in (trained / "checkpoints").rglob("*"):
        if f.suffix == ".npz":
            assert np.load(f, allow_pickle=False).files  # arrays only
        elif f.is_file():
            head = f.read_bytes()[:2]
            assert head not in (b"\x80\x04", b"\x80\x05", b"PK"), f  # pickle protocol 4/5, zip (SB3's model.zip)


# ---- 3. one writer per run dir -----------------------------------------------------------


def test_second_writer_is_refused(copy, tmp_path, run_clis):
    from robrew.runs import RunLock

    with RunLock(copy):  # held by this process: the second writer runs in another
        out, fresh = run_clis(
            [
                (["robrew-train", f"resume={copy}", "total_timesteps=384"], tmp_path),
                (["robrew-train", *TINY, "total_timesteps=128", f"run_dir={copy}"], tmp_path),
            ]
        )
    one_line_error(out, f"is in use by another robrew process (pid {os.getpid()})")
    one_line_error(fresh, "already holds a run")
    assert strict_json(copy / "metrics.json")["num_timesteps"] == 256  # untouched


def test_default_run_dirs_do_not_collide():
    from robrew.runs import TrainConfig

    assert "%f" in TrainConfig().hydra["run"]["dir"]  # microseconds: two runs in one second get two dirs


# ---- 4. resume ---------------------------------------------------------------------------


@pytest.mark.heavy
def test_resume_a_finished_run_with_more_steps_and_in_a_copy(copy, trained, tmp_path, run_clis):
    tb_before = sorted(p.name for p in (trained / "tb").rglob("*"))
    out = run(["robrew-train", f"resume={copy}", "total_timesteps=384"], tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resumed from step_0000000256 at step 256" in out.stdout
    assert strict_json(copy / "metrics.json")["num_timesteps"] >= 384  # the override is honoured
    assert sorted(p.name for p in (trained / "tb").rglob("*")) == tb_before  # the original is not written to
    assert len(list((copy / "tb").rglob("events.out.tfevents.*"))) > len(list((trained / "tb").rglob("events.*")))
    assert not (tmp_path / "runs").exists()  # no empty Hydra directory left behind
    steps = [int(r.split(",")[0]) for r in (copy / "curve.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and 384 in steps  # eval schedule kept: 128, 256, 384, ...
    curve, metrics = (copy / "curve.csv").read_text(), (copy / "metrics.json").read_text()
    # Finished: nothing to train, no crash, and its final evaluation is not run again.
    for again in run_clis([(["robrew-train", f"resume={copy}"], tmp_path)] * 2):
        assert again.returncode == 0 and "nothing to train" in again.stdout, again.stderr[-2000:]
    assert (copy / "curve.csv").read_text() == curve and (copy / "metrics.json").read_text() == metrics


def test_resume_refuses_changing_what_the_run_was(copy, tmp_path):
    one_line_error(run(["robrew-train", f"resume={copy}", "seed=3"], tmp_path), "seed cannot change when resuming")


def test_resume_refuses_a_changed_reward_checkpoint(tmp_path):
    import numpy as np

    from robrew.rewards import save_reward_model
    from robrew.rewards.simple import LinearObsReward

    model = LinearObsReward(obs_dim=26)
    save_reward_model(model, tmp_path / "rm")
    args = [*TINY, "total_timesteps=128", "reward.name=linear_obs", f"reward.checkpoint={tmp_path / 'rm'}"]
    assert run(["robrew-train", *args, f"run_dir={tmp_path / 'r'}"], tmp_path).returncode == 0
    model.linear.weight.data += 1.0  # retrained at the same path
    save_reward_model(model, tmp_path / "rm")
    out = run(["robrew-train", f"resume={tmp_path / 'r'}", "total_timesteps=256"], tmp_path)
    one_line_error(out, "changed since this run started")
    assert np.isfinite(strict_json(tmp_path / "r" / "metrics.json")["num_timesteps"])


# ---- 7. checkpoint gaps -----------------------------------------------------------------


@pytest.mark.parametrize("damage", ["missing", "garbage", "dangling"])
def test_broken_latest_pointer_falls_back_to_the_newest_complete_checkpoint(copy, tmp_path, damage):
    pointer = copy / "checkpoints" / "latest.json"
    {
        "missing": pointer.unlink,
        "garbage": lambda: pointer.write_text("{not json"),
        "dangling": lambda: pointer.write_text(json.dumps({"checkpoint": "step_0000999999"})),
    }[damage]()
    (copy / "checkpoints" / ".tmp-stale").mkdir()  # a killed save's leftovers
    out = run(["robrew-train", f"resume={copy}", "total_timesteps=384"], tmp_path)
    assert out.returncode == 0 and "resumed from step_0000000256" in out.stdout, out.stderr[-2000:]
    assert not list((copy / "checkpoints").glob(".tmp-*"))  # cleaned by the next save
    assert json.loads(pointer.read_text())["num_timesteps"] >= 384


VICTIMS = ["learner.safetensors", "learner.json", "normalizer.npz"]


@pytest.fixture(scope="module")
def truncated_evals(trained, tmp_path_factory, run_clis):
    """Per file of :data:`VICTIMS`: a copy of the run with that file of its checkpoint cut in
    half, and what ``robrew-eval`` on it did."""
    cases = []
    for victim in VICTIMS:
        root = tmp_path_factory.mktemp("truncated")
        run_dir = root / "run"
        shutil.copytree(trained, run_dir)
        (run_dir / ".lock").unlink(missing_ok=True)
        target = run_dir / "checkpoints" / "step_0000000256" / victim
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
        cases.append((["robrew-eval", str(run_dir), "--episodes", "1", "--videos", "0"], root))
    return dict(zip(VICTIMS, run_clis(cases)))


@pytest.mark.parametrize("victim", VICTIMS)
def test_truncated_checkpoint_files_are_one_line(truncated_evals, victim):
    one_line_error(truncated_evals[victim], victim)


# ---- 8/9. errors before anything is written ----------------------------------------------


TASK = {
    "name": "t",
    "env_id": "robrew/TabletopReach-v0",
    "goal_prompts": ["a"],
    "baseline_prompts": ["b"],
    "horizon": 10,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Bad task files and a CLIP 'checkpoint' that is a pickle with code in it, outside the run's cwd."""
    root = tmp_path_factory.mktemp("inputs")
    (root / "camera.yaml").write_text(yaml.safe_dump({**TASK, "camera": "nosuchcam"}))
    (root / "kwargs.yaml").write_text(yaml.safe_dump({**TASK, "env_kwargs": {"bogus": 3}}))
    (root / "latin1.yaml").write_bytes(
        yaml.safe_dump({**TASK, "goal_prompts": ["caf\u00e9"]}, allow_unicode=True).encode("latin-1")
    )
    (root / "evil.pt").write_bytes(pickle.dumps({"state_dict": Boom(root / "PWNED")}))
    return root


CONFIG_ERRORS = [
    (["device=tpu9"], "device='tpu9' is not a torch device"),
    (["reward=clip", "reward.device=cuda:0"], "has no CUDA device"),
    (["algo.policy=NoSuchPolicy"], "algo 'ppo': Policy NoSuchPolicy unknown"),
    (["algo=sac", "algo.params.n_epochs=4"], "algo.params.n_epochs is a PPO setting, but algo=sac"),
    (["algo.her=true"], "algo.her is a SAC/TQC setting, but algo=ppo"),
    (["task.path={inputs}/camera.yaml"], "unknown camera preset 'nosuchcam'"),
    (["task.path={inputs}/kwargs.yaml"], "unexpected keyword argument 'bogus'"),
    (["task.path={inputs}/latin1.yaml"], "not UTF-8 text"),
    (["reward=clip", "reward.kwargs.pretrained={inputs}/evil.pt"], "holds Python objects, not only weights"),
]


@pytest.fixture(scope="module")
def config_error_runs(tmp_path_factory, inputs, run_clis):
    """Each of :data:`CONFIG_ERRORS` as ``robrew-train`` in an empty directory of its own: (the
    directory, what the command did)."""
    cases = [
        (
            ["robrew-train", *TINY, *[o.format(inputs=inputs) for o in overrides], "total_timesteps=128"],
            tmp_path_factory.mktemp("config_error"),
        )
        for overrides, _ in CONFIG_ERRORS
    ]
    return [(cwd, out) for (_, cwd), out in zip(cases, run_clis(cases))]


@pytest.mark.parametrize("case", range(len(CONFIG_ERRORS)), ids=[m for _, m in CONFIG_ERRORS])
def test_config_errors_leave_nothing_behind(config_error_runs, inputs, case):
    message = CONFIG_ERRORS[case][1]
    if "cuda" in message:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU: reward.device=cuda is valid here")
    cwd, out = config_error_runs[case]
    one_line_error(out, message)
    assert list(cwd.iterdir()) == []  # no runs/<task>/<time>/, no .hydra, no cli.log, no config.yaml
    assert not (inputs / "PWNED").exists()


# ---- 10. files ---------------------------------------------------------------------------


def test_outputs_respect_the_umask_and_json_is_strict(trained):
    for p in [trained, *trained.rglob("*")]:
        mode = p.stat().st_mode & 0o777
        if p.name == ".lock":
            continue
        assert mode == (0o755 if p.is_dir() else 0o644), (p, oct(mode))
    strict_json(trained / "metrics.json")
    strict_json(trained / "reward.json")


# ---- 6. stops with subprocess workers ----------------------------------------------------


@pytest.mark.heavy
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_with_subprocess_workers_saves_a_checkpoint(tmp_path, sig):
    run_dir = tmp_path / "run"
    args = [
        str(BIN / "robrew-train"),
        *TINY,
        "subprocess=true",
        "total_timesteps=200000",
        "checkpoint_every=100000",
        "eval_every=100000",
        f"run_dir={run_dir}",
    ]
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    start = time.time()
    while not list((run_dir / "tb").rglob("events.*")):
        assert proc.poll() is None and time.time() - start < 120, proc.stderr.read()[-2000:] if proc.poll() else ""
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(proc.pid, sig)  # the whole process group, workers included (Ctrl-C, SLURM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-2000:]
    assert "stopped by signal" in stdout and "Traceback" not in stderr, stderr[-2000:]
    assert not any(e in stderr for e in ("EOFError", "ConnectionResetError", "BrokenPipeError"))
    from robrew.runs import latest_checkpoint

    assert latest_checkpoint(run_dir) is not None


def test_replayed_steps_replace_the_logged_ones_in_tensorboard(copy, tmp_path):
    """Killed after step 256 with its last checkpoint at 128: the resumed run replays 128..256."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    shutil.rmtree(copy / "checkpoints" / "step_0000000256")
    (copy / "checkpoints" / "latest.json").write_text(json.dumps({"checkpoint": "step_0000000128"}))
    out = run(["robrew-train", f"resume={copy}", "total_timesteps=384"], tmp_path)
    assert out.returncode == 0 and "resumed from step_0000000128" in out.stdout, out.stderr[-2000:]
    (tb,) = [p for p in (copy / "tb").iterdir() if p.is_dir()]
    acc = EventAccumulator(str(tb)).Reload()
    steps = [e.step for e in acc.Scalars("eval/true_success_rate")]
    assert steps == sorted(set(steps)) and 384 in steps, steps  # each step once
    curve = [int(r.split(",")[0]) for r in (copy / "curve.csv").read_text().splitlines()[1:]]
    assert curve == sorted(set(curve)) and curve[-1] >= 384, curve
