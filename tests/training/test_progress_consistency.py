"""Progress-model training on what a potential pays for nothing: the consistency term on
consecutive frames of one stage, and the completed-segment jitter metric."""

from types import SimpleNamespace

import numpy as np
import pytest


def test_completed_jitter_is_the_mean_step_change_after_completion():
    """score_metrics' completed_jitter by hand: a score that alternates 1, 0.2 after completion."""
    from robrew.training.progress import score_metrics

    class Score:
        needs_frames, needs_obs = False, True

        def flatten_obs(self, obs):
            return obs

        def score_episode(self, frames=None, obs=None, instructions=None):
            return obs[:, 0]

    ramp = np.r_[np.linspace(0, 1, 10), np.ones(6)]
    jumpy = np.r_[np.linspace(0, 1, 10), [1.0, 0.2, 1.0, 0.2, 1.0, 0.2]]
    demos = [
        SimpleNamespace(
            success=True,
            quality="clean",
            done_at=9,
            subtask=np.zeros(16),
            instruction="",
            observations=score[:, None].astype(np.float32),
        )
        for score in (ramp, jumpy)
    ]
    demos.append(
        SimpleNamespace(
            success=False,
            quality="failing",
            done_at=None,
            subtask=np.zeros(16),
            instruction="",
            observations=np.zeros((16, 1), np.float32),
        )
    )
    out = score_metrics(Score(), demos)
    # from the completing frame on: ramp 0 per step; jumpy 1, 1, .2, 1, .2, 1, .2: five steps of 0.8 in six
    assert out["completed_jitter"] == pytest.approx(0.5 * (0.0 + 0.8 * 5 / 6))
    assert out["voc_clean"] > 0.9


def test_consistency_loss_compares_consecutive_frames_of_one_stage_only():
    import torch

    from robrew.rewards.progress import ProgressReward
    from robrew.training.progress import ProgressTrainConfig, _consistency

    torch.manual_seed(0)
    model = ProgressReward(2, [0.5, 0.5], obs_dim=2, text="none", hidden=16)
    cfg, rng = ProgressTrainConfig(), np.random.default_rng(0)
    length = np.full(6, 6)  # one episode of six frames
    t_of, texts = np.arange(6), [""] * 3

    def loss(obs, stage, target):
        obs_t = torch.tensor(obs, dtype=torch.float32)
        logits = model.stage_head(model.features(None, obs_t[target], texts))
        out = _consistency(model, logits, target, torch.tensor(stage), t_of, length, cfg, rng, obs_t, None, texts)
        return float(out.detach())

    still = np.ones((6, 2))
    moving = np.stack([np.arange(6.0), -np.arange(6.0)], 1)
    one_stage, switching = [0] * 6, [0, 1, 0, 1, 0, 1]
    target = np.array([0, 2, 4])
    assert loss(still, one_stage, target) == 0.0  # the same state twice: nothing to pay
    assert loss(moving, one_stage, target) > 0.0  # the stage head changes its mind between neighbours
    assert loss(moving, switching, target) == 0.0  # the label changes there: the head may too
    assert loss(moving, one_stage, np.array([5, 5, 5])) == 0.0  # the last frame has no next one
