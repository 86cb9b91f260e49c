"""Registry, save/load round trip, clear errors on bad checkpoints, NaN guard."""

import json

import numpy as np
import pytest
import torch

from robrew.rewards import RewardModelError, list_rewards, load_reward_model, make_reward, save_reward_model
from robrew.rewards.registry import CONFIG_FILE, WEIGHTS_FILE


def test_registry_lists_and_rejects_unknown():
    assert {"clip", "ensemble", "normalized", "frame_mean", "linear_obs"} <= set(list_rewards())
    with pytest.raises(ValueError, match="unknown reward model 'nope'; registered"):
        make_reward("nope")


def test_save_load_round_trip(tmp_path):
    m = make_reward("linear_obs", obs_dim=5)
    torch.nn.init.normal_(m.linear.weight)
    obs = np.random.default_rng(0).normal(size=(9, 5)).astype(np.float32)
    save_reward_model(m, tmp_path / "rm")
    loaded = load_reward_model(tmp_path / "rm")
    np.testing.assert_allclose(loaded.score(obs=obs), m.score(obs=obs), atol=1e-7)
    assert sorted(p.name for p in (tmp_path / "rm").iterdir()) == [WEIGHTS_FILE, CONFIG_FILE]


def test_normalizer_statistics_survive_save_load(tmp_path):
    m = make_reward("normalized", model={"name": "linear_obs", "obs_dim": 2})
    m.score(obs=np.random.default_rng(0).normal(3.0, 2.0, size=(500, 2)).astype(np.float32))
    save_reward_model(m, tmp_path)
    loaded = load_reward_model(tmp_path)
    assert loaded.count.item() == pytest.approx(m.count.item())
    assert loaded.mean.item() == pytest.approx(m.mean.item())


@pytest.mark.parametrize(
    "damage", ["no_config", "bad_json", "no_weights", "truncated_weights", "wrong_shape", "flipped_bit"]
)
def test_corrupt_checkpoints_fail_clearly(tmp_path, damage):
    save_reward_model(make_reward("linear_obs", obs_dim=3), tmp_path)
    cfg, weights = tmp_path / CONFIG_FILE, tmp_path / WEIGHTS_FILE
    if damage == "no_config":
        cfg.unlink()
    elif damage == "bad_json":
        cfg.write_text("{not json")
    elif damage == "no_weights":
        weights.unlink()
    elif damage == "truncated_weights":
        weights.write_bytes(weights.read_bytes()[:40])
    elif damage == "flipped_bit":  # still a valid safetensors file: only the recorded sha256 can tell
        data = bytearray(weights.read_bytes())
        data[-2] ^= 0x01
        weights.write_bytes(bytes(data))
    else:
        meta = json.loads(cfg.read_text())
        meta["config"]["obs_dim"] = 4
        cfg.write_text(json.dumps(meta))
    with pytest.raises(RewardModelError) as err:
        load_reward_model(tmp_path)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)
    if damage == "flipped_bit":
        assert "sha256 differs" in str(err.value)


def test_observations_of_the_wrong_width_are_one_line():
    m = make_reward("linear_obs", obs_dim=4)
    with pytest.raises(ValueError, match=r"reads observations of width 4, got width 7: it was trained on another env"):
        m.score(obs=np.zeros((3, 7), np.float32))


def test_nan_from_a_model_is_an_error():
    m = make_reward("linear_obs", obs_dim=2)
    m.linear.weight.data.fill_(float("nan"))  # broken weights, finite input
    with pytest.raises(RewardModelError, match="non-finite"):
        m.score(obs=np.array([[1.0, 0.0]], dtype=np.float32))


def test_input_checks():
    m = make_reward("frame_mean")
    with pytest.raises(ValueError, match="needs frames"):
        m.score()
    with pytest.raises(ValueError, match="instructions for a batch of 2"):
        m.score(frames=np.zeros((2, 4, 4, 3), np.uint8), instructions=["a"])
