"""Offline instruction encoders: the hashed bag of words and the packaged MiniLM."""

import numpy as np

from robrew.rewards import load_reward_model, save_reward_model
from robrew.rewards.progress import ProgressReward
from robrew.rewards.progress.text_encoders import text_embedding


def test_minilm_is_offline_normalised_and_semantic():
    a, b, c = text_embedding(
        "minilm",
        [
            "put the red block on the green pad",
            "place the red cube onto the green pad",
            "move the gripper above the table",
        ],
    )
    assert a.shape == (384,) and abs(np.linalg.norm(a) - 1) < 1e-5
    assert a @ b > a @ c + 0.2  # a paraphrase is much closer than another task


def test_progress_model_with_minilm_round_trips(tmp_path):
    model = ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=4, text="minilm")
    assert model.text_dim == 384
    obs = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    ins = [
        "put the red block on the green pad",
        "put the blue block on the green pad",
        "put the red block on the green pad",
    ]
    r = model.score(obs=obs, instructions=ins)
    save_reward_model(model, tmp_path / "m")
    np.testing.assert_allclose(load_reward_model(tmp_path / "m").score(obs=obs, instructions=ins), r, atol=1e-6)


def test_progress_model_on_a_frozen_clip_tower(tiny_clip_dir, tmp_path):
    import torch

    model = ProgressReward(
        2, [0.5, 0.5], encoder="clip", text="clip", clip_model="ViT-B-32", clip_pretrained=str(tiny_clip_dir)
    )
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
    np.testing.assert_allclose(
        loaded.score(frames=frames, instructions="put the red block on the green pad"), r, atol=1e-5
    )
    model.train()
    assert not model.clip_tower.training and torch.is_tensor(model.prior)


def test_minilm_tokens_are_padded_normalised_and_contextual():
    import pytest

    from robrew.rewards.progress.text_encoders import MAX_TOKENS

    a, b = text_embedding("minilm_tokens", ["put the red block on the green pad", "put the green block on the red pad"])
    n = int((np.abs(a).sum(-1) > 0).sum())
    assert a.shape == (MAX_TOKENS, 384) and n == 10  # [CLS] + 8 words + [SEP]
    np.testing.assert_allclose(np.linalg.norm(a[:n], axis=1), 1.0, atol=1e-5)
    assert not np.abs(a[n:]).any()
    assert a[3] @ b[7] < 0.99  # "red" in block context vs in pad context: not the same vector
    with pytest.raises(ValueError, match="word pieces"):
        text_embedding("minilm_tokens", ["red " * 60])
    with pytest.raises(ValueError, match="slots encoder only"):
        ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=4, text="minilm_tokens")


def test_slot_pointer_reads_tokens_and_ignores_padding():
    import torch

    from robrew.rewards.progress.slot_pointer import SlotPointer

    torch.manual_seed(0)
    ptr = SlotPointer(proprio_dim=3, slot_dim=4, n_slots=3, text_dim=8, hidden=16)
    tokens = torch.randn(2, 5, 8)
    padded = torch.cat([tokens, torch.zeros(2, 4, 8)], dim=1)
    torch.testing.assert_close(ptr._queries(padded), ptr._queries(tokens))
    assert ptr._queries(torch.randn(2, 8)).shape == ptr._queries(tokens).shape == (2, 2, 32)
