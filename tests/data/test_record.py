"""Recording any Gymnasium env and policy into robrew's demo layout (stock Pusher-v5 here), with
no annotations, with a stage_fn, with frames, from Python and from robrew-collect."""

import sys

import gymnasium as gym
import numpy as np
import pytest

from robrew.agents.ppo import PpoConfig
from robrew.apps.collect import main as collect_main
from robrew.data.demos import DatasetError, load_demos
from robrew.data.record import record_demos
from robrew.training.progress import ProgressTrainConfig, fit_progress_model


def pusher(render: bool) -> gym.Env:
    return gym.make("Pusher-v5", render_mode="rgb_array" if render else None, width=32, height=32)


class Swing:
    """A tiny scripted policy: swings the shoulder one way, then the other."""

    def reset(self):
        self.t = 0

    def __call__(self, obs):
        self.t += 1
        return np.array([0.5 if self.t < 8 else -0.5] + [0.0] * 6, np.float32)


def lifted(obs, info) -> int:  # a stage from the observation alone: shoulder past 0.02 rad
    return int(obs[0] > 0.02)


def test_record_without_annotations_or_frames(tmp_path):
    path = record_demos(pusher, Swing(), tmp_path, "pusher", episodes=3, max_steps=15, instruction="swing")
    demos = load_demos(path)
    assert path == tmp_path.resolve() / "robrew/pusher/recorded-v0"
    assert len(demos) == 3 and {d.quality for d in demos} == {"demo"}
    d = demos[0]
    assert d.observations.shape == (16, 23) and d.actions.shape == (15, 7) and d.frames is None
    np.testing.assert_array_equal(d.actions[0], [0.5] + [0.0] * 6)  # what the policy did
    assert d.subtasks == ["complete the task"] and set(d.subtask.tolist()) == {0}  # one stage
    assert d.instruction == "swing" and d.success is False  # Pusher has no success flag
    with pytest.raises(DatasetError, match="reads frames, but these demonstrations were recorded without them"):
        fit_progress_model(demos, ProgressTrainConfig(encoder="cnn", steps=1))


def test_record_with_a_stage_fn_frames_and_a_mix(tmp_path):
    still = lambda obs: np.zeros(7, np.float32)  # noqa: E731
    path = record_demos(
        pusher,
        None,
        tmp_path,
        "pusher",
        episodes=4,
        mix={"swing": (0.5, Swing()), "still": (0.5, still)},
        stage_fn=lifted,
        subtasks=["lift the shoulder", "hold it"],
        frames=True,
        max_steps=12,
    )
    demos = load_demos(path)
    assert sorted(d.quality for d in demos) == ["still", "still", "swing", "swing"]
    for d in demos:
        np.testing.assert_array_equal(d.subtask, [lifted(o, {}) for o in d.observations])  # stage per frame
        assert d.frames.shape == (13, 32, 32, 3) and d.frames.mean() > 0
    swung = next(d for d in demos if d.quality == "swing")
    assert swung.subtask[0] == 0 and swung.subtask.max() == 1  # the swing lifts the shoulder, stillness not
    assert max(d.subtask.max() for d in demos if d.quality == "still") == 0
    with pytest.raises(DatasetError, match=r"exists; pass --overwrite \(overwrite=True\)"):
        record_demos(pusher, still, tmp_path, "pusher", episodes=1, max_steps=2)
    with pytest.raises(DatasetError, match="stage_fn returned 1, but there are 1 subtasks"):
        record_demos(pusher, Swing(), tmp_path, "other", episodes=1, max_steps=12, stage_fn=lifted)
    assert not (tmp_path / "robrew" / "other").exists()  # nothing written


def test_robrew_collect_records_a_policy_from_a_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_policies.py").write_text(
        "import numpy as np\nclass Expert:\n    def __call__(self, obs):\n        return np.full(7, 0.1, np.float32)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    collect_main(["--env", "Pusher-v5", "--policy", "my_policies:Expert", "--episodes", "2", "--out", str(tmp_path)])
    demos = load_demos(tmp_path / "robrew" / "Pusher-v5" / "recorded-v0")
    assert len(demos) == 2 and len(demos[0].actions) == 100  # Pusher's own time limit
    np.testing.assert_allclose(demos[0].actions, 0.1)
    assert "wrote 2 episodes" in capsys.readouterr().out
    with pytest.raises(SystemExit) as bad:
        collect_main(["--env", "Pusher-v5", "--policy", "my_policies:Nope", "--out", str(tmp_path / "x")])
    assert bad.value.code == 2 and "Nope" in capsys.readouterr().err
    sys.modules.pop("my_policies", None)


def test_quality_mix_by_hand():
    from robrew.data.record import FailingPolicy, NoisyPolicy, parse_mix, quality_mix

    assert parse_mix("clean=2,noisy=0,failing=3") == {"clean": 2, "failing": 3}
    for bad in ("clean=two", "good=3", "clean=0"):
        with pytest.raises(DatasetError, match="--mix"):
            parse_mix(bad)
    space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def policy(obs):
        return np.array([0.5, -0.5], np.float32)

    mix = quality_mix(policy, space, {"clean": 2, "noisy": 1, "failing": 1}, noise=0.2, failing="stop", stop_after=2)
    assert {k: f for k, (f, _) in mix.items()} == {"clean": 2.0, "noisy": 1.0, "failing": 1.0}
    assert mix["clean"][1] is policy
    noisy = mix["noisy"][1]
    assert isinstance(noisy, NoisyPolicy) and not np.array_equal(noisy(None), policy(None))
    stop = mix["failing"][1]
    assert isinstance(stop, FailingPolicy)
    assert [stop(None).tolist() for _ in range(4)] == [[0.5, -0.5], [0.5, -0.5], [0.0, 0.0], [0.0, 0.0]]
    stop.reset()
    assert stop(None).tolist() == [0.5, -0.5]
    rand = FailingPolicy(policy, space, "random", seed=3)
    a = np.stack([rand(None) for _ in range(200)])
    assert a.min() >= -1 and a.max() <= 1 and a.std(0).min() > 0.4


def test_robrew_collect_records_a_runs_policy_with_a_quality_mix(tmp_path, capsys):
    """--run replays the run's deterministic actions bit for bit; the mix's counts are exact and
    every episode's success flag is the env's."""
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import TaskConfig, TrainConfig, load_run_policy
    from robrew.training.train import train

    run = tmp_path / "run"
    cfg = TrainConfig(
        task=TaskConfig("tabletop_reach"),
        reward=RewardConfig(),
        algo=PpoConfig(),
        n_envs=1,
        total_timesteps=128,
        checkpoint_every=128,
        eval_every=128,
        eval_episodes=0,
        progress_bar=False,
    )
    cfg.algo.params.n_steps = 64
    cfg.algo.params.batch_size = 64
    train(cfg, run)
    collect_main(
        ["--run", str(run), "--mix", "clean=2,noisy=1,failing=1", "--out", str(tmp_path / "data"), "--seed", "7"]
    )
    out = capsys.readouterr().out
    demos = load_demos(tmp_path / "data/robrew/tabletop_reach/recorded-v0")
    assert sorted(d.quality for d in demos) == ["clean", "clean", "failing", "noisy"], out
    policy = load_run_policy(run)
    for i, d in enumerate(demos):
        env = policy.make_env()
        obs, _ = env.reset(seed=7 + i)
        np.testing.assert_array_equal(d.observations[0], obs)
        if d.quality != "clean":
            continue
        for t, recorded in enumerate(d.actions):
            action = policy.act(obs)
            np.testing.assert_array_equal(recorded, action, err_msg=f"episode {i} step {t}")
            obs, _, term, trunc, info = env.step(action)
        assert d.success == bool(info["is_success"])
    with pytest.raises(SystemExit):
        collect_main(["--mix", "clean=2", "--out", str(tmp_path / "x")])
    assert "--mix mixes a policy" in capsys.readouterr().err
