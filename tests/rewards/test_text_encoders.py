"""Offline instruction encoders: the hashed bag of words and the packaged MiniLM."""

import numpy as np

from robrew.rewards import load_reward_model, save_reward_model
from robrew.rewards.progress import ProgressReward
from robrew.rewards.text_encoders import text_embedding


def test_minilm_is_offline_normalised_and_semantic():
    a, b, c = text_embedding("minilm", ["put the red block on the green pad", "place the red cube onto the green pad",
                                        "move the gripper above the table"])  # fmt: skip
    assert a.shape == (384,) and abs(np.linalg.norm(a) - 1) < 1e-5
    assert a @ b > a @ c + 0.2  # a paraphrase is much closer than another task


def test_progress_model_with_minilm_round_trips(tmp_path):
    model = ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=4, text="minilm")
    assert model.text_dim == 384
    obs = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    ins = ["put the red block on the green pad", "put the blue block on the green pad", "put the red block on the green pad"]
    r = model.score(obs=obs, instructions=ins)
    save_reward_model(model, tmp_path / "m")
    np.testing.assert_allclose(load_reward_model(tmp_path / "m").score(obs=obs, instructions=ins), r, atol=1e-6)
