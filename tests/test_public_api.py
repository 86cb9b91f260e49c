"""The public API: every name the packages export imports, and moved names still work with one warning."""

import importlib
import json
import subprocess
import sys

import pytest

PUBLIC = ["robrew", "robrew.rewards", "robrew.wrappers", "robrew.data"]


@pytest.mark.parametrize("package", PUBLIC)
def test_every_exported_name_resolves(package):
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert not missing and module.__all__, missing


MOVED = [
    ("robrew.eval.rollouts", "robrew.metrics.rollouts", "run_episodes"),
    ("robrew.residual", "robrew.agents.residual", "ResidualAction"),
    ("robrew.bc_policy", "robrew.agents.bc_policy", "load_policy"),
    ("robrew.policies", "robrew.agents.sac_policies", "LayerNormSACPolicy"),
    ("robrew.demo_replay", "robrew.agents.demo_replay", "DemoMixReplayBuffer"),
    ("robrew.learner_state", "robrew.agents.learner_state", "save_learner_state"),
    ("robrew.rewards.progress_parts", "robrew.rewards.progress.parts", "Encoder"),
    ("robrew.rewards.windows", "robrew.rewards.progress.windows", "episode_windows"),
    ("robrew.rewards.slot_pointer", "robrew.rewards.progress.slot_pointer", "SlotPointer"),
    ("robrew.rewards.text_encoders", "robrew.rewards.progress.text_encoders", "text_embedding"),
    ("robrew.rewards.preprocess", "robrew.rewards.clip.preprocess", "ClipPreprocess"),
    ("robrew.rewards.vlm_rm", "robrew.rewards.clip.vlm_rm", "vlm_rm_reward"),
]

# In a fresh interpreter (nothing of robrew imported yet, as a user's script starts), each old
# module imported twice, then its new one: the FutureWarnings and whether the name is one object.
MOVED_CHECK = """
import importlib, json, sys, warnings
out = {}
for old, new, name in json.loads(sys.argv[1]):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        a = importlib.import_module(old); importlib.import_module(old)
    b = importlib.import_module(new)
    out[old] = {
        "warnings": [str(x.message) for x in w if issubclass(x.category, FutureWarning)],
        "same": getattr(a, name) is getattr(b, name),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def moved_imports():
    """What :data:`MOVED_CHECK` saw, per old module: one interpreter for all of them."""
    out = subprocess.run(
        [sys.executable, "-c", MOVED_CHECK, json.dumps(MOVED)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


@pytest.mark.parametrize("old, new, name", MOVED)
def test_a_moved_module_warns_once_and_is_the_same_object(moved_imports, old, new, name):
    seen = moved_imports[old]
    assert seen["same"], f"{old}.{name} is not {new}.{name}"
    assert len(seen["warnings"]) == 1 and f"{old} moved to {new}" in seen["warnings"][0], seen["warnings"]


@pytest.mark.parametrize("name", ["collect_demos", "DEFAULT_MIX", "mix_with_exploration", "dataset_id"])
def test_a_moved_name_warns_and_is_the_same_object(name):
    """The scripted-expert collector moved out of robrew.data.demos (loading a dataset imports no env)."""
    import warnings

    import robrew.data.collect as new
    import robrew.data.demos as old

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert getattr(old, name) is getattr(new, name)
    assert [str(x.message) for x in w if issubclass(x.category, FutureWarning)] == [
        f"robrew.data.demos.{name} moved to robrew.data.collect.{name} (this name will go away)"
    ]
    with pytest.raises(AttributeError):
        old.no_such_name  # noqa: B018
