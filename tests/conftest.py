"""Shared test setup: headless rendering, and robrew imported from the installed package."""

import os
import sys


def _share_cores_between_xdist_workers() -> None:
    """Under pytest-xdist (``-n N``) each worker gets its own share of the cores (worker i: cores
    i, i + N, ...), set before torch loads. torch, and every app a test starts (its
    ``torch_threads=0`` means the usable cores), then use that share instead of each taking all
    cores: N workers with a thread per core each oversubscribe the CPU, which makes small-model
    training many times slower."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not worker or not count or not hasattr(os, "sched_setaffinity"):
        return
    cores, n, i = sorted(os.sched_getaffinity(0)), int(count), int(worker.removeprefix("gw"))
    if n > 1 and len(cores) > 1:
        share = cores[i % len(cores) :: n] or cores
        os.sched_setaffinity(0, set(share))
        if "torch" in sys.modules:  # loaded before this file (a plugin): its thread pool follows too
            sys.modules["torch"].set_num_threads(len(share))


_share_cores_between_xdist_workers()
os.environ.setdefault("MUJOCO_GL", "egl")
# Tests never touch the network: the hub answers from the local cache or fails at once.
# (Read by huggingface_hub at import, so it must be set before anything imports it.)
os.environ["HF_HUB_OFFLINE"] = "1"

import json  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402

import robrew  # noqa: E402,F401  (before any mujoco import)
import robrew.envs  # noqa: E402,F401


def pytest_collection_modifyitems(items):
    """Tests marked ``heavy`` (the end-to-end runs of tens of seconds) run first: under
    pytest-xdist they then share out while every worker is busy, instead of one of them ending
    the run alone while the others wait. The order of the rest is pytest's own."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


# Console scripts run one after another in one fresh interpreter, each with its own argv, cwd
# and file descriptors 1 and 2 (so what C code prints is caught too), its exit code taken from
# SystemExit as the console-script wrapper would. A fresh interpreter per invocation costs ~2.5 s
# of importing torch each.
_CLI_BATCH = """
import json, os, sys, tempfile, traceback
from importlib.metadata import entry_points
from hydra.core.global_hydra import GlobalHydra
scripts = entry_points(group="console_scripts")
results = []
real_out, real_err = os.dup(1), os.dup(2)
for argv, cwd in json.loads(sys.argv[1]):
    GlobalHydra.instance().clear()
    os.chdir(cwd)
    sys.argv = list(argv)
    code = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        try:
            scripts[argv[0]].load()()
        except SystemExit as e:
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
            code = 1 if isinstance(e.code, str) else (e.code or 0)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(real_out, 1); os.dup2(real_err, 2)
        out.seek(0); err.seek(0)
        results.append([code, out.read().decode(), err.read().decode()])
print(json.dumps(results))
"""


@pytest.fixture(scope="session")
def run_clis():
    """``run_clis([(argv, cwd), ...], env={...})`` -> one ``subprocess.CompletedProcess`` per
    invocation (``argv[0]`` a console script, e.g. ``robrew-train``), all run one after another in
    one fresh interpreter (``env``: variables added to its environment): for the many invocations
    that end in a config error before anything trains, and for steps of one pipeline that pass on
    nothing but files."""

    def run(cases, env=None):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
        payload = json.dumps([[[str(a) for a in argv], str(cwd)] for argv, cwd in cases])
        proc = subprocess.run(
            [sys.executable, "-c", _CLI_BATCH, payload], capture_output=True, text=True, env=env, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        results = json.loads(proc.stdout.splitlines()[-1])
        return [subprocess.CompletedProcess(argv, *result) for (argv, _), result in zip(cases, results)]

    return run


TINY_CLIP_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory):
    """A randomly initialised open_clip model saved in open_clip's local-dir layout
    (open_clip_config.json + open_clip_model.safetensors): loadable with no network."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = open_clip.CLIP(**TINY_CLIP_CFG)
    out = tmp_path_factory.mktemp("tiny_clip")
    cfg = {"model_cfg": TINY_CLIP_CFG, "preprocess_cfg": {"mean": [0.48, 0.46, 0.41], "std": [0.27, 0.26, 0.28]}}
    (out / "open_clip_config.json").write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / "open_clip_model.safetensors")
    return out


@pytest.fixture(scope="session")
def tiny_humanoid_run(tmp_path_factory):
    """A finished 64-step PPO run on ``humanoid_kneeling`` (env reward): a real run dir to
    evaluate, roll out and report on. Copy it before writing into it."""
    from robrew.agents.ppo import PpoConfig, PpoParams
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import TaskConfig, TrainConfig
    from robrew.training.train import train

    cfg = TrainConfig(
        task=TaskConfig("humanoid_kneeling"),
        reward=RewardConfig(),
        algo=PpoConfig(params=PpoParams(n_steps=64, batch_size=64, n_epochs=1)),
        n_envs=1,
        total_timesteps=64,
        checkpoint_every=64,
        eval_every=64,
        eval_episodes=1,
        progress_bar=False,
    )
    run = tmp_path_factory.mktemp("humanoid_run") / "kneeling"
    train(cfg, run)
    return run
