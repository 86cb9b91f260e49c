"""The residual learner: the batched base actor acts exactly like one actor per env, the learner
sees the base action, residual PPO's warm-up moves only the value function, and progressive
exploration follows its schedule."""

import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

from robrew.agents.bc_policy import BCPolicy
from robrew.agents.residual import ResidualAction, ResidualConfig, VecResidualAction, env_observation
from robrew.agents.residual_ppo import ResidualPPO
from robrew.env_factory import make_env
from robrew.taskspec import load_task

TASK = "tabletop_reach"  # horizon 50: an episode boundary inside a short test


def random_policy(chunk: int = 4, seed: int = 0) -> BCPolicy:
    torch.manual_seed(seed)
    env = make_env(load_task(TASK))
    policy = BCPolicy(env.observation_space.shape[0], env.action_space.shape[0], hidden=32, chunk=chunk)
    env.close()
    with torch.no_grad():  # varied statistics: the normalisation is part of what must match
        policy.obs_mean.uniform_(-0.2, 0.2)
        policy.obs_std.uniform_(0.5, 2.0)
    return policy.eval()


def vec(n: int, seed: int = 0) -> DummyVecEnv:
    spec = load_task(TASK)
    venv = DummyVecEnv([lambda: make_env(spec)] * n)
    venv.seed(seed)
    return venv


def test_a_zero_residual_in_a_vecenv_is_each_envs_base_policy_bit_for_bit():
    policy, n, steps = random_policy(), 3, 70  # past the 50-step horizon: autoreset included
    inner = vec(n, seed=5)
    sent = []
    step_async = inner.step_async
    inner.step_async = lambda a: (sent.append(np.array(a)), step_async(a))[1]
    venv = VecResidualAction(inner, policy, ResidualConfig(scale=0.1))
    venv.reset()
    for _ in range(steps):
        venv.step(np.zeros((n, 4), np.float32))
    for i in range(n):  # one env alone, its own actor, the same seed
        env, actor = make_env(load_task(TASK)), policy.actor(0.3)
        obs, _ = env.reset(seed=5 + i)
        for t in range(steps):
            action = actor(obs)
            np.testing.assert_array_equal(sent[t][i], action, err_msg=f"env {i} step {t}")
            obs, _, term, trunc, _ = env.step(action)
            if term or trunc:
                obs, _ = env.reset()
                actor.reset()


def test_single_env_adapter_acts_like_the_vecenv_adapter_and_a_correction_moves_the_action():
    policy = random_policy()
    cfg = ResidualConfig(scale=0.2)
    venv = VecResidualAction(vec(1, seed=3), policy, cfg)
    env = ResidualAction(make_env(load_task(TASK)), policy, cfg)
    vobs = venv.reset()
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.uniform(-1, 1, 4).astype(np.float32)
        np.testing.assert_array_equal(vobs[0], obs)
        vobs, _, _, vinfo = venv.step(a[None])
        obs, _, _, _, info = env.step(a)
        np.testing.assert_array_equal(vinfo[0]["base_action"], info["base_action"])
    # the action sent is clip(base + scale * a)
    sent = []
    probe = ResidualAction(make_env(load_task(TASK)), policy, cfg)
    probe.reset(seed=4)
    base = probe.base_action()
    step = probe.env.step
    probe.env.step = lambda x: (sent.append(x), step(x))[1]
    probe.step(np.array([1.0, -1.0, 0.5, 0.0], np.float32))
    np.testing.assert_allclose(sent[0], np.clip(base + 0.2 * np.array([1.0, -1.0, 0.5, 0.0]), -1, 1), atol=1e-7)


def test_a_held_correction_is_hold_steps_of_the_same_correction_in_one_env():
    policy, rng = random_policy(), np.random.default_rng(1)
    held = ResidualAction(make_env(load_task(TASK)), policy, ResidualConfig(scale=0.2, hold=3, penalty=0.5))
    each = ResidualAction(make_env(load_task(TASK)), policy, ResidualConfig(scale=0.2, penalty=0.5))
    obs, _ = held.reset(seed=3)
    ref, _ = each.reset(seed=3)
    inner = []
    step = held.env.step
    held.env.step = lambda x: (inner.append(x), step(x))[1]
    done = False
    while not done:  # 50 env steps: 16 held steps of 3, the last one 2 (the episode ends inside it)
        np.testing.assert_array_equal(obs, ref)
        c = rng.uniform(-1, 1, 4).astype(np.float32)
        decided = each.base_action()
        obs, reward, term, trunc, info = held.step(c)
        rewards, costs = [], []
        for _ in range(3):
            ref, r, ref_term, ref_trunc, ref_info = each.step(c)
            rewards.append(r)
            costs.append(ref_info["residual_cost"])
            if ref_term or ref_trunc:
                break
        assert reward == pytest.approx(sum(rewards)) and info["residual_cost"] == pytest.approx(sum(costs))
        assert (term, trunc) == (ref_term, ref_trunc)
        np.testing.assert_array_equal(info["base_action"], decided)  # the base action the learner saw
        done = term or trunc
    np.testing.assert_array_equal(obs, ref)
    assert len(inner) == 50


def test_a_vecenv_holds_each_correction_and_an_env_that_ends_inside_waits_on_its_base():
    policy, n, rng = random_policy(), 2, np.random.default_rng(2)
    inner = vec(n, seed=5)
    sent = []
    step_async = inner.step_async
    inner.step_async = lambda a: (sent.append(np.array(a)), step_async(a))[1]
    held = VecResidualAction(inner, policy, ResidualConfig(scale=0.2, hold=3))
    each = VecResidualAction(vec(n, seed=5), policy, ResidualConfig(scale=0.2))
    obs, ref = held.reset(), each.reset()
    for _ in range(16):  # 48 env steps inside the first episodes (horizon 50)
        np.testing.assert_array_equal(obs, ref)
        c = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
        obs, reward, dones, _ = held.step(c)
        steps = [each.step(c) for _ in range(3)]
        np.testing.assert_allclose(reward, sum(r for _, r, _, _ in steps), rtol=1e-6)
        assert not dones.any()
        ref = steps[-1][0]
    c = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
    obs, reward, dones, infos = held.step(c)  # steps 49, 50 (the episodes end), then one on the base alone
    (_, r1, _, _), (last, r2, ref_dones, ref_infos) = each.step(c), each.step(c)
    assert dones.all() and ref_dones.all()
    np.testing.assert_allclose(reward, r1 + r2, rtol=1e-6)  # the step after the end is not the learner's
    for i in range(n):
        np.testing.assert_array_equal(infos[i]["terminal_observation"], ref_infos[i]["terminal_observation"])
    np.testing.assert_array_equal(sent[-1], np.clip(last[:, -4:].astype(np.float64), -1, 1))  # zero correction
    ref, *_ = each.step(np.zeros((n, 4), np.float32))
    np.testing.assert_array_equal(obs, ref)
    assert held.num_timesteps == 17 * 3 * n


def test_the_learner_observes_the_base_action_where_configured():
    policy, n = random_policy(), 2
    venv = VecResidualAction(vec(n), policy, ResidualConfig())
    plain_dim = make_env(load_task(TASK)).observation_space.shape[0]
    assert venv.observation_space.shape == (plain_dim + 4,)
    obs, ended = venv.reset(), False
    for _ in range(55):  # across the episode end: terminal observations carry it too
        new, _, dones, infos = venv.step(np.zeros((n, 4), np.float32))
        for i in range(n):  # the base action in the observation is the one the step then used
            np.testing.assert_array_equal(obs[i, -4:], infos[i]["base_action"].astype(np.float32))
            if dones[i]:
                assert infos[i]["terminal_observation"].shape == (plain_dim + 4,)
                ended = True
        obs = new
    assert ended
    np.testing.assert_array_equal(env_observation(np.ones((2, plain_dim + 4)), 4), np.ones((2, plain_dim)))
    blind = VecResidualAction(vec(n), policy, ResidualConfig(observe_base=False))
    assert blind.observation_space.shape == (plain_dim,) and blind.reset().shape == (n, plain_dim)


def test_progressive_exploration_follows_min_t_over_h():
    policy, n = random_policy(), 4
    inner = vec(n)
    sent = []
    step_async = inner.step_async
    inner.step_async = lambda a: (sent.append(np.array(a)), step_async(a))[1]
    venv = VecResidualAction(inner, policy, ResidualConfig(scale=0.5, progressive_steps=1000))
    for t, p in ((0, 0.0), (250, 0.25), (1000, 1.0), (5000, 1.0)):
        venv.num_timesteps = t
        assert venv.residual_probability() == p
    venv.num_timesteps = 0  # p = 0: every episode that starts now is the base policy alone
    venv.reset()
    base = venv._base.copy()
    venv.step(np.ones((n, 4), np.float32))
    np.testing.assert_array_equal(sent[-1], np.clip(base, -1, 1))
    venv.num_timesteps = 1000  # p = 1 from the next episode on; episodes already running keep theirs
    venv.reset()
    base = venv._base.copy()
    venv.step(np.ones((n, 4), np.float32))
    np.testing.assert_array_equal(sent[-1], np.clip(base + 0.5, -1, 1))
    # at p = 0.5, about half the episodes use the residual (seeded draws)
    venv.num_timesteps = 500
    venv._start_episodes(range(n))
    draws = [venv._use.copy() for _ in range(50) if venv._start_episodes(range(n)) is None]
    assert 0.35 < np.mean(draws) < 0.65


def test_warmup_trains_only_the_value_function_and_the_actor_starts_at_zero():
    venv = VecResidualAction(vec(2), random_policy(), ResidualConfig())
    model = ResidualPPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=2, warmup_iters=1, seed=0)
    assert not model.policy.action_net.weight.any() and not model.policy.action_net.bias.any()
    obs = torch.as_tensor(venv.reset())
    assert not model.policy.get_distribution(obs).distribution.mean.any()  # mean correction 0: the base policy
    actor = [p.detach().clone() for p in model.actor_parameters()]
    value = [p.detach().clone() for p in model.policy.value_net.parameters()]
    model.learn(64)  # one update, inside the warm-up
    assert all(torch.equal(a, b) for a, b in zip(actor, model.actor_parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(value, model.policy.value_net.parameters()))
    model.learn(64, reset_num_timesteps=False)  # the next update moves the actor too
    assert not all(torch.equal(a, b) for a, b in zip(actor, model.actor_parameters()))
    assert all(p.requires_grad for p in model.actor_parameters())


@pytest.mark.parametrize(
    "cfg, message",
    [
        (ResidualConfig(scale=0.0), "scale must be in"),
        (ResidualConfig(penalty=-1.0), "penalty must be"),
        (ResidualConfig(progressive_steps=-5), "progressive_steps"),
        (ResidualConfig(hold=0), "hold must be >= 1"),
    ],
)
def test_bad_settings_are_one_line(cfg, message):
    with pytest.raises(ValueError, match=message):
        VecResidualAction(vec(1), random_policy(), cfg)
    with pytest.raises(ValueError, match="acts in 4 dimensions"):
        ResidualAction(make_env(load_task("cartpole")), random_policy())
