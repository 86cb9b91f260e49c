"""Device-agnostic accelerator paths, on CPU: device/dtype selection, batch splitting over
two CPU "devices", the batch-size search, and the same numbers with and without them."""

import numpy as np
import pytest
import torch

from robrew.rewards.accel import ReplicatedReward, _search, find_batch_size, split_sizes, visible_devices
from robrew.rewards.base import resolve_device, resolve_precision
from robrew.rewards.clip import ClipReward
from robrew.rewards.progress import ProgressReward

GOAL, BASE = ["a humanoid robot kneeling"], ["a humanoid robot"]


def test_device_and_precision_selection():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_precision("auto", torch.device("cpu")) is None  # fp32 on CPU
    assert resolve_precision("bf16", torch.device("cpu")) is torch.bfloat16
    assert resolve_precision("fp16", torch.device("cuda")) is torch.float16
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("int3", torch.device("cpu"))
    if not torch.cuda.is_available():
        assert visible_devices() == ["cpu"]


@pytest.mark.parametrize(
    ("n", "parts", "weights", "expected"),
    [
        (10, 2, None, [5, 5]),
        (7, 3, None, [3, 2, 2]),
        (10, 2, [1, 3], [3, 7]),
        (2, 4, None, [1, 1, 0, 0]),
        (0, 2, None, [0, 0]),
    ],
)
def test_split_sizes(n, parts, weights, expected):
    assert split_sizes(n, parts, weights) == expected


def test_split_sizes_rejects_bad_weights():
    with pytest.raises(ValueError, match="weights"):
        split_sizes(4, 2, [1, -1])
    with pytest.raises(ValueError, match="parts"):
        split_sizes(4, 0)


def test_batch_size_search_stops_at_out_of_memory():
    tried = []

    def probe(b):
        tried.append(b)
        if b > 200:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    assert _search(probe, start=16, limit=4096, margin=0.8) == int(128 * 0.8)
    assert tried == [16, 32, 64, 128, 256]
    assert _search(lambda b: None, start=16, limit=64, margin=0.8) == 64  # the limit itself, no margin

    def broken(b):
        raise RuntimeError("shape mismatch")  # not an OOM: must surface

    with pytest.raises(RuntimeError, match="shape mismatch"):
        _search(broken, 16, 64, 0.8)


def test_auto_batch_size_on_cpu_is_the_default(tiny_clip_dir):
    model = ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir), alpha=0.5, batch_size="auto")
    assert model.batch_size == 64 and find_batch_size(model, (32, 32, 3)) == 64
    with pytest.raises(ValueError, match="batch_size"):
        ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir), batch_size=0)


def test_replicated_clip_matches_one_device(tiny_clip_dir):
    model = ClipReward(GOAL, BASE, pretrained=str(tiny_clip_dir), alpha=0.5, batch_size=3)
    frames = np.random.default_rng(0).integers(0, 256, size=(11, 40, 56, 3), dtype=np.uint8)
    expected = model.score(frames=frames)
    for weights in (None, [1, 3]):
        rep = ReplicatedReward(model, devices=["cpu", "cpu"], weights=weights)
        assert rep.replicas[0] is model and rep.replicas[1] is not model
        np.testing.assert_allclose(rep.score(frames=frames), expected, rtol=1e-5, atol=1e-6)
    instructions = ["a robot kneeling"] * 5 + ["a robot standing"] * 6
    np.testing.assert_allclose(
        ReplicatedReward(model, ["cpu", "cpu"]).score(frames=frames, instructions=instructions),
        model.score(frames=frames, instructions=instructions),
        rtol=1e-5,
        atol=1e-6,
    )


def test_replicated_progress_model_with_observations():
    torch.manual_seed(0)
    model = ProgressReward(3, [0.2, 0.3, 0.5], encoder="state", obs_dim=6)
    obs = np.random.default_rng(1).normal(size=(9, 6)).astype(np.float32)
    rep = ReplicatedReward(model, ["cpu", "cpu", "cpu"])
    np.testing.assert_allclose(
        rep.score(obs=obs, instructions="put the red block on the pad"),
        model.score(obs=obs, instructions="put the red block on the pad"),
        atol=1e-6,
    )
