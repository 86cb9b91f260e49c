"""Demonstrations in SAC's replay (RLPD-style): exact batch shares, demo rewards equal to the
reward model's scores under the run's composition, the same demo buffer rebuilt on resume, and
a tiny end-to-end run."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

from robrew.agents.demo_replay import DemoMixReplayBuffer, DemoTransitions, demo_transitions
from robrew.agents.sac import SacConfig, SacParams
from robrew.data.collect import collect_demos
from robrew.data.demos import load_demos
from robrew.rewards.factory import Composition, RewardConfig
from robrew.rewards.simple import LinearObsReward
from robrew.runs import ConfigError, TaskConfig, TrainConfig
from robrew.training.train import train
from robrew.wrappers import RewardComposition


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return collect_demos("tabletop_reach", tmp_path_factory.mktemp("ds"), episodes=3, seed=0, image_size=16)


def buffer(ratio: float, online: int = 20, demos: int = 30) -> DemoMixReplayBuffer:
    obs_space, act_space = gym.spaces.Box(-9, 9, (2,)), gym.spaces.Box(-1, 1, (1,))
    buf = DemoMixReplayBuffer(100, obs_space, act_space, device="cpu", demo_ratio=ratio)
    for _ in range(online):  # online rows carry 0 in their first observation value
        buf.add(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 1)), np.zeros(1), np.zeros(1), [{}])
    ones = np.ones((demos, 2), np.float32)
    buf.set_demos(DemoTransitions(ones, np.ones((demos, 1), np.float32), ones, np.ones(demos, np.float32),
                                  np.zeros(demos, np.float32)))  # fmt: skip
    return buf


@pytest.mark.parametrize("ratio, batch, expected", [(0.5, 64, 32), (0.25, 256, 64), (0.3, 10, 3), (0.0, 16, 0)])
def test_symmetric_sampling_draws_the_exact_share(ratio, batch, expected):
    buf = buffer(ratio)
    for _ in range(5):
        sample = buf.sample(batch)
        assert sample.observations.shape == (batch, 2) and sample.rewards.shape == (batch, 1)
        assert int(sample.observations[:, 0].sum()) == expected == buf.demo_count(batch)
    with pytest.raises(ValueError, match="demo_ratio"):
        buffer(1.0)
    with pytest.raises(ValueError, match="record them in this env"):
        buffer(0.5).set_demos(DemoTransitions(*(np.zeros((3, k), np.float32) for k in (5, 1, 5)),
                                              np.zeros(3, np.float32), np.zeros(3, np.float32)))  # fmt: skip


def test_n_step_returns_sum_within_each_demo_episode_and_online():
    """Two demo episodes of 3 and 2 steps, rewards 1, 2, 4 | 8, 16 (obs = the row number), gamma 0.5,
    n = 2: each row's return is r_t + 0.5 r_{t+1} inside its episode, bootstrapped from the obs
    two steps on with discount 0.25, or one step on with 0.5 at the episode's last step."""
    rows = np.arange(5, dtype=np.float32)
    demos = DemoTransitions(
        rows[:, None].repeat(2, 1), np.zeros((5, 1), np.float32), rows[:, None].repeat(2, 1) + 1,
        np.array([1, 2, 4, 8, 16], np.float32), np.zeros(5, np.float32), np.array([2, 2, 2, 4, 4]),
    )  # fmt: skip
    obs_space, act_space = gym.spaces.Box(-99, 99, (2,)), gym.spaces.Box(-1, 1, (1,))
    buf = DemoMixReplayBuffer(100, obs_space, act_space, device="cpu", demo_ratio=0.5, n_steps=2, gamma=0.5)
    for t in range(4):  # one online episode, rewards 10, 20, 30, 40, truncated at its end
        obs = np.full((1, 2), 100.0 + t)
        buf.add(obs, obs + 1, np.zeros((1, 1)), np.array([10.0 * (t + 1)]), np.array([t == 3]),
                [{"TimeLimit.truncated": t == 3}])  # fmt: skip
    buf.set_demos(demos)
    s = buf.sample(400)
    got = {(float(o), float(r), float(nxt), float(disc)) for o, r, nxt, disc in zip(
        s.observations[:, 0], s.rewards[:, 0], s.next_observations[:, 0], s.discounts[:, 0])}  # fmt: skip
    expected = {
        (0, 1 + 0.5 * 2, 2, 0.25), (1, 2 + 0.5 * 4, 3, 0.25), (2, 4, 3, 0.5), (3, 8 + 0.5 * 16, 5, 0.25),
        (4, 16, 5, 0.5),  # demos
        (100, 10 + 0.5 * 20, 102, 0.25), (101, 20 + 0.5 * 30, 103, 0.25), (102, 30 + 0.5 * 40, 104, 0.25),
        (103, 40, 104, 0.5),  # online, SB3's NStepReplayBuffer
    }  # fmt: skip
    assert got == expected and (s.dones == 0).all()
    one = buffer(0.5).sample(8)  # n = 1 stays SB3's plain one-step sampling
    assert one.discounts is None


def test_demo_rewards_are_the_models_scores_under_the_composition(dataset):
    demos = load_demos(dataset)
    torch.manual_seed(0)
    model = LinearObsReward(obs_dim=26)
    comp = RewardComposition("potential", env_weight=1.0, model_weight=2.0, gamma=0.97)
    t = demo_transitions(demos, model, comp)
    expected = []
    for d in demos:
        phi = model.score(obs=d.observations).astype(np.float64)
        expected.append(d.rewards + 2.0 * (0.97 * phi[1:] - phi[:-1]))  # no terminations: demos end at the time limit
    np.testing.assert_allclose(t.rewards, np.concatenate(expected), rtol=1e-5, atol=1e-6)
    assert len(t) == sum(len(d.actions) for d in demos) and not t.dones.any()
    np.testing.assert_array_equal(t.next_observations[0], demos[0].observations[1])
    plain = demo_transitions(demos)  # no model: the env's recorded reward
    np.testing.assert_allclose(plain.rewards, np.concatenate([d.rewards for d in demos]), rtol=1e-6)


def cfg_with_demos(dataset, tmp_path, **kw) -> TrainConfig:
    from robrew.rewards import save_reward_model

    save_reward_model(LinearObsReward(obs_dim=26), tmp_path / "rm")
    base = dict(
        task=TaskConfig("tabletop_reach"),
        reward=RewardConfig(name="linear_obs", checkpoint=str(tmp_path / "rm"), composition=Composition.potential),
        algo=SacConfig(demos=str(dataset), demo_ratio=0.5,
                        params=SacParams(learning_starts=64, buffer_size=1000, batch_size=32)),
        n_envs=1, total_timesteps=160, checkpoint_every=80, eval_every=80, eval_episodes=1, progress_bar=False,
    )  # fmt: skip
    return TrainConfig(**{**base, **kw})


def test_end_to_end_and_resume_rebuild_the_same_demo_buffer(dataset, tmp_path, monkeypatch):
    seen: list[DemoTransitions] = []
    original = DemoMixReplayBuffer.set_demos
    monkeypatch.setattr(DemoMixReplayBuffer, "set_demos", lambda self, d: (seen.append(d), original(self, d))[1])
    cfg = cfg_with_demos(dataset, tmp_path)
    assert train(cfg, tmp_path / "run")["num_timesteps"] >= 160
    import dataclasses

    resumed = dataclasses.replace(cfg, total_timesteps=240, resume=str(tmp_path / "run"))
    assert train(resumed, tmp_path / "run")["num_timesteps"] >= 240
    assert len(seen) == 2
    for field in ("observations", "actions", "next_observations", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(seen[0], field), getattr(seen[1], field))
    assert not list((tmp_path / "run" / "checkpoints").rglob("*demo*"))  # rebuilt from the dataset, not saved


@pytest.mark.parametrize(
    "algo, message",
    [
        (SacConfig(demos="/nonexistent/ds"), "algo.demos: .*not a Minari dataset"),
        (SacConfig(demos="DATASET", demo_ratio=1.0), "demo_ratio must be in"),
    ],
)
def test_demo_misconfigurations_are_one_line(dataset, tmp_path, algo, message):
    if algo.demos == "DATASET":
        algo.demos = str(dataset)
    cfg = cfg_with_demos(dataset, tmp_path, algo=algo)
    with pytest.raises(ConfigError, match=message):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_demos_recorded_with_another_env_reward_are_refused(dataset, tmp_path):
    """Demo transitions keep their recorded env reward: a dense-reward dataset in a sparse-reward
    run would pay the demos what online steps never get."""
    from robrew.data.collect import collect_demos
    from robrew.data.demos import dataset_env
    from robrew.training.train import check_demo_rewards

    assert dataset_env(dataset) == {"id": "robrew/TabletopReach-v0", "kwargs": {}}
    sparse = TaskConfig("tabletop_reach_sparse")
    cfg = cfg_with_demos(dataset, tmp_path, task=sparse)
    with pytest.raises(ConfigError, match="recorded in robrew/TabletopReach-v0 with env_kwargs {}, but this run's env"):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    from robrew.runs import resolve_task

    replace = dataclasses.replace(cfg, reward=dataclasses.replace(cfg.reward, composition=Composition.replace))
    check_demo_rewards(replace, resolve_task(replace), LinearObsReward(obs_dim=26))  # env reward unused: fine
    # Recorded in the sparse task itself, the demos carry its reward (1 exactly where the task is done).
    data = collect_demos("tabletop_reach_sparse", tmp_path / "ds", episodes=2, seed=0, image_size=16)
    assert dataset_env(data) == {"id": "robrew/TabletopReach-v0", "kwargs": {"reward": "sparse"}}
    check_demo_rewards(
        dataclasses.replace(cfg, algo=dataclasses.replace(cfg.algo, demos=str(data))), resolve_task(cfg), None
    )
    for d in load_demos(data):
        assert set(np.unique(d.rewards)) <= {0.0, 1.0} and d.rewards.max() == float(d.success)


def tiny_sac(**params):
    from robrew.env_factory import make_env
    from robrew.runs import build_learner, resolve_task

    cfg = TrainConfig(
        task=TaskConfig("tabletop_reach"),
        reward=RewardConfig(),
        algo=SacConfig(params=SacParams(learning_starts=50, buffer_size=500, batch_size=32, **params)),
    )
    spec = resolve_task(cfg)
    return build_learner(cfg, spec, DummyVecEnv([lambda: make_env(spec)]))


def test_actor_pretraining_fits_the_demo_actions(dataset):
    from robrew.training.pretrain import pretrain_actor

    demos = load_demos(dataset)
    sac = tiny_sac()
    obs = np.concatenate([d.observations[:-1] for d in demos])
    acts = np.concatenate([d.actions for d in demos])
    before = np.abs(sac.predict(obs, deterministic=True)[0] - acts).mean()
    report = pretrain_actor(sac, demos, steps=300, batch_size=128)
    after = np.abs(sac.predict(obs, deterministic=True)[0] - acts).mean()
    assert np.mean(report["losses"][-20:]) < np.mean(report["losses"][:20]) and after < 0.6 * before, (before, after)
    zero = np.zeros(len(acts))
    zero[:10] = 1.0  # weights select pairs: only 10 pairs count
    assert pretrain_actor(tiny_sac(), demos, zero, steps=5)["mean_weight"] == pytest.approx(10 / len(acts))


def test_actor_warmup_holds_the_actor_while_the_critic_learns():
    from robrew.training.pretrain import ActorWarmup

    sac = tiny_sac(critic_layer_norm=True)
    assert any(isinstance(m, torch.nn.LayerNorm) for m in sac.critic.modules())
    actor0 = {k: v.clone() for k, v in sac.actor.state_dict().items()}
    critic0 = {k: v.clone() for k, v in sac.critic.state_dict().items()}
    sac.learn(120, callback=ActorWarmup(100))  # frozen until step 150: the whole run
    assert all(torch.equal(v, actor0[k]) for k, v in sac.actor.state_dict().items())
    assert not all(torch.equal(v, critic0[k]) for k, v in sac.critic.state_dict().items())
    assert all(p.requires_grad for p in sac.actor.parameters())  # unfrozen at the end
    sac.learn(60, reset_num_timesteps=False, callback=ActorWarmup(100))  # past step 150 the actor moves
    assert not all(torch.equal(v, actor0[k]) for k, v in sac.actor.state_dict().items())


def test_every_new_option_end_to_end(dataset, tmp_path, monkeypatch):
    import dataclasses

    from robrew.rewards import save_reward_model
    from robrew.training.progress import ProgressTrainConfig, fit_progress_model

    model, _ = fit_progress_model(load_demos(dataset), ProgressTrainConfig(steps=50))
    save_reward_model(model, tmp_path / "progress")
    algo = SacConfig(
        demos=str(dataset),
        demo_ratio=0.5,
        pretrain="rabc",
        pretrain_steps=50,
        actor_warmup=40,
        params=SacParams(learning_starts=64, buffer_size=1000, batch_size=32, critic_layer_norm=True, n_steps=3),
    )
    cfg = TrainConfig(
        task=TaskConfig("tabletop_reach"),
        algo=algo,
        n_envs=1,
        total_timesteps=160,
        checkpoint_every=80,
        eval_every=80,
        eval_episodes=1,
        progress_bar=False,
        reward=RewardConfig(
            name="progress", checkpoint=str(tmp_path / "progress"), composition=Composition.potential, model_weight=10.0
        ),
    )
    seen = []
    set_demos = DemoMixReplayBuffer.set_demos
    monkeypatch.setattr(
        DemoMixReplayBuffer, "set_demos", lambda b, d: (seen.append((b.n_steps, b.gamma)), set_demos(b, d))
    )
    assert train(cfg, tmp_path / "run")["num_timesteps"] >= 160
    assert seen == [(3, 0.97)]  # n-step returns with the learner's discount (the tabletop default)
    again = dataclasses.replace(cfg, total_timesteps=200, resume=str(tmp_path / "run"))
    assert train(again, tmp_path / "run")["num_timesteps"] >= 200
    with pytest.raises(ConfigError, match="algo.pretrain=rabc weights the demos by progress gain"):
        train(dataclasses.replace(cfg, reward=RewardConfig()), tmp_path / "other")
