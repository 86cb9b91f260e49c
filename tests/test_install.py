"""The installed package works from any directory: every env makes, every task loads. A non-editable
install (``make test``) runs from site-packages; an editable one (``make dev``) runs the checkout's
own modules, so the tests test the code being edited."""

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, pathlib, robrew, gymnasium as gym, robrew.envs
from importlib.metadata import distribution
from robrew.envs import ENV_IDS
url = json.loads(distribution("robrew").read_text("direct_url.json") or "{}")
if url.get("dir_info", {}).get("editable"):
    assert pathlib.Path(robrew.__file__).parent == pathlib.Path(REPO) / "robrew", robrew.__file__
    assert pathlib.Path(robrew.envs.__file__).parent == pathlib.Path(REPO) / "envs", robrew.envs.__file__
else:
    assert "site-packages" in robrew.__file__, robrew.__file__
for env_id in ENV_IDS:
    env = gym.make(env_id, render_mode="rgb_array", width=32, height=32)
    env.reset(seed=0)
    assert env.render().shape == (32, 32, 3)
for name in robrew.list_tasks():
    robrew.make_env(robrew.load_task(name)).reset(seed=0)
print("ok", len(ENV_IDS), len(robrew.list_tasks()))
"""


def test_import_from_outside_the_repo(tmp_path):
    script = SCRIPT.replace("REPO", repr(str(Path(__file__).resolve().parents[1])))
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    from robrew.envs import ENV_IDS

    tasks = len(list((Path(__file__).parents[1] / "tasks").glob("*.yaml")))
    assert out.stdout.split() == ["ok", str(len(ENV_IDS)), str(tasks)] and len(ENV_IDS) >= 7


def test_import_robrew_is_light(tmp_path):
    code = "import sys, robrew, robrew.envs; print(any(m in sys.modules for m in ('torch', 'open_clip')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_every_package_of_the_checkout_is_listed_in_pyproject():
    """setuptools ships only the packages pyproject lists: a new subpackage left out imports in the
    checkout (editable) and is missing from every real install."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed, dirs = set(config["packages"]), config["package-dir"]
    on_disk = {
        ".".join(("robrew", *p.parent.relative_to(root / "robrew").parts))
        for p in (root / "robrew").rglob("__init__.py")
    }
    assert on_disk <= listed, sorted(on_disk - listed)
    assert all((root / dirs[name]).is_dir() for name in listed), [n for n in listed if not (root / dirs[n]).is_dir()]


def _uv_sources():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "uv_sources", Path(__file__).resolve().parents[1] / "scripts" / "uv_sources.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_uv_installs_from_where_pip_is_configured_to():
    """``make`` hands uv pip's indexes, find-links and constraints (uv reads no pip.conf), each
    once, and pip's best-match-across-indexes rule; other pip settings are not uv's business."""
    pip_config = "\n".join(
        [
            ":env:.find-links='/opt/wheels'",
            ":env:.default-timeout='180'",
            "global.cert='/etc/ssl/certs/ca.crt'",
            "global.constraint='/etc/pip/constraints.txt'",
            "global.extra-index-url='file:///a/simple file:///b/simple'",
            "global.find-links='/opt/wheels'",
        ]
    )
    uv_options = _uv_sources().uv_options
    assert uv_options(pip_config) == [
        "--find-links",
        "/opt/wheels",
        "--constraint",
        "/etc/pip/constraints.txt",
        "--extra-index-url",
        "file:///a/simple",
        "--extra-index-url",
        "file:///b/simple",
        "--index-strategy",
        "unsafe-best-match",
    ]
    assert uv_options("") == ["--index-strategy", "unsafe-best-match"]
