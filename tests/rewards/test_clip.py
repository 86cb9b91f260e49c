"""CLIP reward with a tiny randomly initialised open_clip model loaded from disk (no network)."""

import numpy as np
import pytest
import torch

from robrew.rewards import RewardModelError, make_reward
from robrew.rewards.clip import ClipReward
from robrew.rewards.preprocess import preprocess_frames
from robrew.rewards.vlm_rm import prompt_set_embedding, vlm_rm_reward

GOAL, BASE = ["a humanoid robot kneeling", "a robot on its knees"], ["a humanoid robot"]


def frames(n=5, h=48, w=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def clip(tiny_clip_dir):
    return ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir), alpha=0.5, batch_size=2)


def test_loads_from_directory_and_checkpoint_file(tiny_clip_dir, clip, tmp_path):
    import json

    import open_clip

    # A custom architecture registered with open_clip, weights from a checkpoint file.
    cfg = json.loads((tiny_clip_dir / "open_clip_config.json").read_text())["model_cfg"]
    (tmp_path / "robrew-tiny-test.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(tmp_path / "robrew-tiny-test.json")
    ckpt = str(tiny_clip_dir / "open_clip_model.safetensors")
    by_file = ClipReward(GOAL, BASE, model="robrew-tiny-test", pretrained=ckpt, alpha=0.5)
    f = frames()
    # Same weights; preprocessing differs only in mean/std (the directory sets its own).
    x_dir = clip.embed_frames(torch.from_numpy(f))
    x_file = by_file.embed_frames(torch.from_numpy(f))
    assert torch.nn.functional.cosine_similarity(x_dir, x_file).min() > 0.95
    assert clip.score(frames=f).dtype == np.float32 and clip.score(frames=f).shape == (5,)


def test_score_is_the_formula_on_the_models_own_embeddings(clip):
    f = frames()
    with torch.no_grad():
        x = clip.embed_frames(torch.from_numpy(f))
        goal = prompt_set_embedding(clip._embed_text(GOAL))
        base = prompt_set_embedding(clip._embed_text(BASE))
    np.testing.assert_allclose(clip.score(frames=f), vlm_rm_reward(x, goal, base, 0.5).numpy(), atol=1e-6)


def test_batching_does_not_change_results(clip):
    f = frames(7)
    one_by_one = np.concatenate([clip.score(frames=f[i : i + 1]) for i in range(7)])
    np.testing.assert_allclose(clip.score(frames=f), one_by_one, atol=1e-5)


def test_softmax_variant_is_a_probability(tiny_clip_dir):
    m = ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir), mode="softmax")
    r = m.score(frames=frames())
    assert np.all((r > 0) & (r < 1))
    r_ins = m.score(frames=frames(), instructions="kneel")
    assert np.all((r_ins > 0) & (r_ins < 1)) and not np.allclose(r, r_ins)


def test_instructions_replace_goal_and_are_embedded_once(clip):
    f = frames(4)
    ins = ["kneel down", "stand up", "kneel down", "stand up"]
    r = clip.score(frames=f, instructions=ins)
    assert set(clip._instruction_cache) == {"kneel down", "stand up"}
    alone = clip.score(frames=f[:1], instructions=["kneel down"])
    assert r[0] == pytest.approx(alone[0], abs=1e-6)


def test_preprocessing_matches_open_clip_and_keeps_aspect_ratio(clip):
    import open_clip
    from PIL import Image

    _, _, ref = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    f = frames(2, h=120, w=200, seed=3)
    mean, std = clip.clip.visual.preprocess_cfg["mean"], clip.clip.visual.preprocess_cfg["std"]
    ours = preprocess_frames(
        torch.from_numpy(f), (224, 224), (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    )
    theirs = torch.stack([ref(Image.fromarray(x)) for x in f])
    assert ours.shape == theirs.shape == (2, 3, 224, 224)
    assert (ours - theirs).abs().mean() < 0.03  # PIL rounds to uint8 after resizing; we do not
    # Letterboxing keeps the whole wide frame: top and bottom rows are the fill.
    padded = preprocess_frames(torch.from_numpy(f), (224, 224), (0, 0, 0), (1, 1, 1), mode="pad")
    assert torch.all(padded[:, :, :20] == 0) and padded[:, :, 112].abs().sum() > 0
    assert mean and std


def test_missing_checkpoint_and_offline_tag_fail_clearly(tmp_path):
    with pytest.raises(RewardModelError, match="does not exist"):
        ClipReward(GOAL, BASE, pretrained=str(tmp_path / "nope.safetensors"))
    with pytest.raises(RewardModelError, match="offline.*pretrained=<checkpoint"):
        ClipReward(GOAL, BASE, model="ViT-B-32", pretrained="laion2b_s34b_b79k")


def test_bad_arguments(tiny_clip_dir):
    with pytest.raises(ValueError, match="baseline_prompts are required"):
        ClipReward(GOAL, [], pretrained=str(tiny_clip_dir), alpha=0.5)
    with pytest.raises(ValueError, match="goal_prompts"):
        ClipReward([""], BASE, pretrained=str(tiny_clip_dir))
    with pytest.raises(ValueError, match="needs frames"):
        make_reward("clip", goal_prompts=GOAL, pretrained=str(tiny_clip_dir)).score(obs=np.zeros((1, 2)))
