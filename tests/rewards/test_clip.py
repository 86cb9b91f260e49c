"""CLIP reward with a tiny randomly initialised open_clip model loaded from disk (no network)."""

import numpy as np
import pytest
import torch

from robrew.rewards import RewardModelError, make_reward
from robrew.rewards.clip import ClipReward
from robrew.rewards.clip.preprocess import preprocess_frames
from robrew.rewards.clip.vlm_rm import prompt_set_embedding, vlm_rm_reward

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


SHAPES = [(240, 320), (320, 240), (480, 640), (123, 457)]
OPEN_CLIP_MODE = {"crop": "shortest", "pad": "longest", "squash": "squash"}


def smooth_frames(h, w, seed):
    """Frames with structure at several scales (noise alone is the one input no resize agrees on)."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.uniform(0, 255, (2, 3, 12, 16)).astype(np.float32))
    x = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    x = x + torch.from_numpy(rng.normal(0, 12, (2, 3, h, w)).astype(np.float32))
    return x.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear"])
@pytest.mark.parametrize("mode", ["crop", "pad", "squash"])
def test_preprocessing_equals_open_clips_pil_transform(tiny_clip_dir, mode, interpolation):
    """Pixels and embeddings of our batched tensor path against open_clip's own PIL transform."""
    import open_clip
    from PIL import Image

    from robrew.rewards.clip.preprocess import ClipPreprocess

    model = ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir), resize_mode=mode)
    cfg = {**model.clip.visual.preprocess_cfg, "interpolation": interpolation, "fill_color": 0}
    ours = ClipPreprocess.from_open_clip(cfg, mode)
    for size in (32, 224):  # the model's own input, and CLIP's usual one
        pre = ClipPreprocess((size, size), ours.mean, ours.std, mode, interpolation)
        ref = open_clip.image_transform(
            size,
            is_train=False,
            mean=ours.mean,
            std=ours.std,
            resize_mode=OPEN_CLIP_MODE[mode],
            interpolation=interpolation,
        )
        for i, (h, w) in enumerate(SHAPES):
            f = smooth_frames(h, w, seed=i)
            got = pre(torch.from_numpy(f))
            want = torch.stack([ref(Image.fromarray(x)) for x in f])
            assert got.shape == want.shape == (2, 3, size, size), (h, w)
            assert (got - want).abs().mean() < 0.01, (size, h, w, float((got - want).abs().mean()))
            if size == 32:
                with torch.no_grad():
                    a = torch.nn.functional.normalize(model.clip.encode_image(got), dim=-1)
                    b = torch.nn.functional.normalize(model.clip.encode_image(want), dim=-1)
                cos = torch.nn.functional.cosine_similarity(a, b)
                assert cos.min() >= 0.9999, (mode, interpolation, h, w, cos.tolist())


def test_model_default_resize_mode_and_letterbox(tiny_clip_dir):
    """No resize_mode: the model's preprocess config decides (open_clip's default is the crop)."""
    model = ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir))
    assert model.preprocess.mode == "crop" and model.config()["resize_mode"] is None
    f = frames(2, h=120, w=200, seed=3)
    padded = preprocess_frames(torch.from_numpy(f), (224, 224), (0, 0, 0), (1, 1, 1), mode="pad")
    # Letterboxing keeps the whole wide frame: top and bottom rows are the fill.
    assert torch.all(padded[:, :, :20] == 0) and padded[:, :, 112].abs().sum() > 0
    with pytest.raises(ValueError, match="resize mode"):
        ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir), resize_mode="stretch")


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
