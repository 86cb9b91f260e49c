"""Typed reward configs -> models, in one place: the env's reward, task prompts for CLIP,
checkpoints, one-line errors, and what a run records about its reward."""

import pytest

from robrew.rewards import save_reward_model
from robrew.rewards.clip import ClipReward
from robrew.rewards.factory import RewardConfig, RewardConfigError, build_reward_model, reward_record
from robrew.rewards.simple import LinearObsReward
from robrew.taskspec import load_task


def test_env_reward_is_no_model():
    assert build_reward_model(RewardConfig(name="env")) is None


def test_clip_takes_the_tasks_prompts_unless_given(tiny_clip_dir):
    spec = load_task("humanoid_kneeling")
    model = build_reward_model(RewardConfig(name="clip", kwargs={"pretrained": str(tiny_clip_dir)}), spec)
    assert isinstance(model, ClipReward) and list(model.goal_prompts) == list(spec.goal_prompts)
    own = RewardConfig(name="clip", kwargs={"pretrained": str(tiny_clip_dir), "goal_prompts": ["a robot waving"]})
    assert list(build_reward_model(own, spec).goal_prompts) == ["a robot waving"]
    ensemble = RewardConfig(
        name="ensemble", kwargs={"members": [{"name": "clip", "pretrained": str(tiny_clip_dir)}] * 2}
    )
    members = build_reward_model(ensemble, spec).members
    assert all(list(m.goal_prompts) == list(spec.goal_prompts) for m in members)


def test_checkpoint_and_record(tmp_path):
    save_reward_model(LinearObsReward(obs_dim=3), tmp_path / "m")
    cfg = RewardConfig(name="linear_obs", checkpoint=str(tmp_path / "m"))
    model = build_reward_model(cfg)
    assert isinstance(model, LinearObsReward) and model.obs_dim == 3
    record = reward_record(cfg, model)
    assert record["config"]["obs_dim"] == 3 and set(record["checkpoint_sha256"]) == {
        p.name for p in (tmp_path / "m").iterdir()
    }
    assert all(len(h) == 64 for h in record["checkpoint_sha256"].values())


@pytest.mark.parametrize(
    "cfg, message",
    [
        (RewardConfig(name="bogus"), "reward 'bogus': unknown reward model 'bogus'"),
        (RewardConfig(name="frame_mean", kwargs={"colour": 1}), "reward 'frame_mean'.*colour"),
        (RewardConfig(name="progress", checkpoint="/nonexistent/model"), "reward 'progress'"),
    ],
)
def test_bad_configs_are_one_clear_error(cfg, message):
    with pytest.raises(RewardConfigError, match=message):
        build_reward_model(cfg)
