"""Garbage in is refused in one line, never turned into a plausible reward: float, NaN and
out-of-range frames (no silent uint8 cast), wrong shapes, NaN/inf observations."""

import numpy as np
import pytest

from robrew.rewards import make_reward
from robrew.rewards.progress import ProgressReward


@pytest.fixture(scope="module")
def frame_models(tiny_clip_dir):
    return {
        "frame_mean": make_reward("frame_mean"),
        "clip": make_reward(
            "clip", goal_prompts=["a goal"], baseline_prompts=["a scene"], pretrained=str(tiny_clip_dir), alpha=0.5
        ),
        "cnn_progress": ProgressReward(2, [0.5, 0.5], encoder="cnn", text="none", hidden=16),
    }


GOOD = np.full((2, 16, 16, 3), 100, np.uint8)
BAD_FRAMES = {
    "float in [0, 1]": (GOOD / 255.0, "takes uint8 frames"),
    "float NaN": (np.full((2, 16, 16, 3), np.nan, np.float32), "takes uint8 frames"),
    "float inf": (np.full((2, 16, 16, 3), np.inf, np.float32), "takes uint8 frames"),
    "int64 300": (np.full((2, 16, 16, 3), 300, np.int64), "values in \\[300, 300\\]"),
    "negative int": (np.full((2, 16, 16, 3), -1, np.int32), "values in \\[-1, -1\\]"),
    "no channel axis": (np.zeros((2, 16, 16), np.uint8), "shape \\(B, H, W, 3\\)"),
    "channels first": (np.zeros((2, 3, 16, 16), np.uint8), "shape \\(B, H, W, 3\\)"),
}


@pytest.mark.parametrize("model_name", ["frame_mean", "clip", "cnn_progress"])
@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_bad_frames_are_refused(frame_models, model_name, case):
    model = frame_models[model_name]
    frames, message = BAD_FRAMES[case]
    with pytest.raises(ValueError, match=message):
        model.score(frames=frames)
    good = model.score(frames=GOOD)  # and good input still works
    assert good.shape == (2,) and np.all(np.isfinite(good))


def test_in_range_integer_frames_are_accepted_exactly(frame_models):
    model = frame_models["frame_mean"]
    assert model.score(frames=GOOD.astype(np.int64))[0] == model.score(frames=GOOD)[0]


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_non_finite_observations_are_refused(value):
    model = ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=3, text="none")
    obs = np.ones((4, 3), np.float32)
    obs[2, 1] = value
    with pytest.raises(ValueError, match=r"NaN or inf observations \(rows \[2\]\)"):
        model.score(obs=obs)


def test_observation_shape_errors_name_the_expected_shape():
    model = ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=3, text="none")
    with pytest.raises(ValueError, match=r"shape \(B, D\)"):
        model.score(obs=np.ones(3, np.float32))
    windowed = ProgressReward(2, [0.5, 0.5], encoder="state", obs_dim=3, text="none", window=4)
    with pytest.raises(ValueError, match=r"shape \(B, 4, D\) windows"):
        windowed.score(obs=np.ones((2, 3), np.float32))
