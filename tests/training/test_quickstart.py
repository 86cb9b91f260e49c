"""The quick-start job: PPO on tabletop reach really learns, and writes its files atomically."""

import json

import pytest

from robrew.training.quickstart import QuickstartConfig, train_and_evaluate


def test_ppo_beats_random_on_reach(tmp_path):
    cfg = QuickstartConfig(total_timesteps=16_384, n_envs=4, eval_episodes=8, out_dir=str(tmp_path))
    r = train_and_evaluate(cfg)
    # Random reaching gets ~1 per episode; a policy that moves to the block gets tens.
    assert r["mean_return"] > 5 * max(r["random_mean_return"], 1.0), r
    assert json.loads((tmp_path / "metrics.json").read_text())["success_rate"] == r["success_rate"]
    assert (tmp_path / "model.zip").stat().st_size > 0
    assert not list(tmp_path.glob("*.json.tmp")) and len(list(tmp_path.glob("*.json"))) == 1


def test_bad_budget_fails_before_training(tmp_path):
    with pytest.raises(ValueError, match="total_timesteps must be positive"):
        train_and_evaluate(QuickstartConfig(total_timesteps=0, out_dir=str(tmp_path)))
