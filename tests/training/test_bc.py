"""BC, RA-BC and return-weighted BC on a small demonstration set."""

import numpy as np
import pytest

from robrew.data.collect import collect_demos
from robrew.data.demos import load_demos
from robrew.rewards.progress import ProgressReward
from robrew.training.bc import BCConfig, BCPolicy, ChunkActor, action_chunks, sample_weights, train_bc


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    return load_demos(
        collect_demos("tabletop_pick_place", tmp_path_factory.mktemp("ds"), episodes=6, seed=2, image_size=16)
    )


def test_plain_bc_loss_falls(demos):
    policy, report = train_bc(demos, BCConfig(steps=200, batch_size=128))
    losses = np.array(report["losses"])
    assert losses[-20:].mean() < 0.7 * losses[:20].mean()
    assert report["mean_weight"] == 1.0
    action = policy.act(demos[0].observations[0])
    assert action.shape == (4,) and np.all(np.abs(action) <= 1)
    actor = policy.actor()
    assert actor(demos[0].observations[0]).shape == (4,)


def test_action_chunks_repeat_the_last_action():
    class D:
        actions = np.arange(8, dtype=np.float32).reshape(4, 2)

    chunks = action_chunks([D()], 3)
    assert chunks.shape == (4, 3, 2)
    np.testing.assert_array_equal(chunks[2], [[4, 5], [6, 7], [6, 7]])
    np.testing.assert_array_equal(chunks[3], [[6, 7]] * 3)


def test_temporal_ensembling_exact():
    policy = BCPolicy(obs_dim=1, act_dim=1, chunk=3)
    outputs = iter(
        [np.array([[1.0], [2.0], [3.0]]), np.array([[10.0], [20.0], [30.0]]), np.array([[5.0], [6.0], [7.0]])]
    )
    policy.forward_rows = lambda x: __import__("torch").tensor(next(outputs))[None]
    actor = ChunkActor(policy, decay=np.log(2.0))  # weights 1, 1/2, 1/4 newest first
    assert actor(np.zeros(1)) == pytest.approx(1.0)
    assert actor(np.zeros(1)) == pytest.approx((10 + 0.5 * 2) / 1.5)
    assert actor(np.zeros(1)) == pytest.approx((5 + 0.5 * 20 + 0.25 * 3) / 1.75)
    actor.reset()
    with pytest.raises(StopIteration):
        actor(np.zeros(1))


def test_return_weights_follow_returns(demos):
    w = sample_weights(demos, BCConfig(weighting="return"))
    per_episode = []
    start = 0
    for d in demos:
        per_episode.append(w[start])
        assert np.all(w[start : start + len(d.actions)] == w[start])
        start += len(d.actions)
    returns = [d.rewards.sum() for d in demos]
    assert np.argmax(per_episode) == np.argmax(returns) and np.argmin(per_episode) == np.argmin(returns)


def test_rabc_weights_from_a_progress_model(demos):
    with pytest.raises(ValueError, match="needs a progress model"):
        sample_weights(demos, BCConfig(weighting="rabc"))
    model = ProgressReward(5, [0.2] * 5, obs_dim=demos[0].observations.shape[1])
    w = sample_weights(demos, BCConfig(weighting="rabc", chunk=3), model)
    assert len(w) == sum(len(d.actions) for d in demos)
    assert np.all((w >= 0) & (w <= 1))
    _, report = train_bc(demos, BCConfig(weighting="rabc", steps=20), progress_model=model)
    assert 0 <= report["mean_weight"] <= 1
    with pytest.raises(ValueError, match="weighting"):
        train_bc(demos, BCConfig(weighting="vibes", steps=1))


def test_rabc_keeps_frames_the_model_calls_complete(demos):
    class Done:  # a progress model that calls every frame complete: no gain is possible anywhere
        needs_frames, needs_obs = False, True

        def flatten_obs(self, obs):
            return obs

        def score_episode(self, frames, obs, instructions):
            return np.where(np.arange(len(obs)) % 2 == 0, 1.0, 0.97)  # small dips, as real predictions have

    held = sample_weights(demos, BCConfig(weighting="rabc", chunk=1), Done())
    assert np.all(held == 1.0)
    dropped = sample_weights(demos, BCConfig(weighting="rabc", chunk=1, complete_at=None), Done())
    assert dropped.mean() < 0.75  # without it, every dip is a "mistake" (weight 0)


def test_failure_tails_get_no_weight_and_successes_keep_theirs(demos):
    class Rises:  # progress climbs to mid-episode, then stays flat: every failure peaks at its middle
        needs_frames, needs_obs = False, True

        def flatten_obs(self, obs):
            return obs

        def score_episode(self, frames, obs, instructions):
            return np.minimum(np.arange(len(obs)), len(obs) // 2) / len(obs)

    assert any(d.success for d in demos) and not all(d.success for d in demos)
    kept = sample_weights(demos, BCConfig(weighting="rabc", chunk=1), Rises())
    cut = sample_weights(demos, BCConfig(weighting="rabc", chunk=1, drop_failure_tails=True), Rises())
    start = 0
    for d in demos:
        n, peak = len(d.actions), len(d.observations) // 2
        mine, theirs = cut[start : start + n], kept[start : start + n]
        if d.success:
            np.testing.assert_array_equal(mine, theirs)
        else:
            np.testing.assert_array_equal(mine[:peak], theirs[:peak])
            assert np.all(mine[peak:] == 0) and np.all(theirs[peak:] > 0)  # flat progress: a middling weight
        start += n


def test_noops_are_still_steps_that_keep_the_gripper_and_leave_with_their_observation(demos):
    from robrew.training.bc import noop_steps, without_noops

    acts = np.array([[0.5, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, -1], [0, 0, 0, -1], [0, 0.1, 0, -1]], np.float32)
    np.testing.assert_array_equal(noop_steps(acts), [False, True, False, True, False])
    d = demos[0]
    paused = np.zeros_like(d.actions)
    paused[:, -1] = d.actions[:, -1]  # gripper as recorded, no motion
    n = len(d.actions)
    acts = d.actions.copy()
    acts[10:15] = paused[9]  # five steps that do nothing after step 9's gripper command
    acts[10:15, -1] = d.actions[9, -1]
    acts[10:15, :-1] = 0.0
    from dataclasses import replace

    weights = np.arange(n, dtype=float)
    (kept,), w = without_noops([replace(d, actions=acts)], weights)
    dropped = np.flatnonzero(noop_steps(acts))
    assert set(range(10, 15)) <= set(dropped.tolist())
    assert len(kept.actions) == n - len(dropped) and len(kept.observations) == len(kept.actions) + 1
    np.testing.assert_array_equal(w, np.delete(weights, dropped))
    np.testing.assert_array_equal(kept.observations[10], d.observations[np.setdiff1d(np.arange(n), dropped)[10]])
    assert len(kept.subtask) == len(kept.observations) and kept.done_at <= d.done_at
    policy, report = train_bc([replace(d, actions=acts)], BCConfig(steps=20, batch_size=32, drop_noops=True))
    assert report["samples"] == n - len(dropped)


def test_forward_rows_is_forward_row_by_row_bit_for_bit():
    import torch

    torch.manual_seed(0)
    policy = BCPolicy(obs_dim=26, act_dim=4, hidden=64, chunk=5).eval()
    with torch.no_grad():
        policy.obs_std.uniform_(0.5, 2.0)
        x = torch.randn(7, 26)
        rows = policy.forward_rows(x)
        for i in range(7):
            assert torch.equal(rows[i], policy(x[i : i + 1])[0])
        assert torch.allclose(rows, policy(x), atol=1e-6)  # a plain batch agrees to rounding only


def test_success_weights_keep_exactly_the_successful_episodes(demos):
    w = sample_weights(demos, BCConfig(weighting="success"))
    per_episode = np.split(w, np.cumsum([len(d.actions) for d in demos])[:-1])
    assert [set(x.tolist()) for x in per_episode] == [{1.0 if d.success else 0.0} for d in demos]
    assert any(d.success for d in demos) and not all(d.success for d in demos)  # both kinds are there
    with pytest.raises(ValueError, match="none of these succeeded"):
        sample_weights([d for d in demos if not d.success], BCConfig(weighting="success"))
