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


def test_progress_model_on_a_frozen_clip_tower(tiny_clip_dir, tmp_path):
    import torch

    model = ProgressReward(2, [0.5, 0.5], encoder="clip", text="clip", clip_model="ViT-B-32", clip_pretrained=str(tiny_clip_dir))
    assert model.needs_frames and not model.needs_obs and model.text_dim == 32
    frozen = [p for n, p in model.named_parameters() if n.startswith("clip_tower.")]
    assert frozen and not any(p.requires_grad for p in frozen)
    frames = np.random.default_rng(0).integers(0, 256, size=(3, 40, 40, 3), dtype=np.uint8)
    r = model.score(frames=frames, instructions="put the red block on the green pad")
    assert r.shape == (3,) and np.all((r >= 0) & (r <= 1))
    save_reward_model(model, tmp_path / "m")
    from safetensors.torch import load_file

    assert not any(k.startswith("clip_tower.") for k in load_file(str(tmp_path / "m" / "model.safetensors")))
    loaded = load_reward_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.score(frames=frames, instructions="put the red block on the green pad"), r, atol=1e-5)
    model.train()
    assert not model.clip_tower.training and torch.is_tensor(model.prior)
