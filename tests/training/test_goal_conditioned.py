"""Goal-conditioned envs with Dict observations: MultiInputPolicy by default, SAC with HER
(goal relabelling through the env's compute_reward), checkpoints that rebuild the HER buffer,
evaluation, and observation reward models that read chosen keys."""

import gymnasium as gym
import numpy as np
import pytest

from robrew.agents.learner_state import load_replay
from robrew.agents.ppo import PpoConfig, PpoParams
from robrew.agents.sac import SacConfig, SacParams
from robrew.eval.evaluate import evaluate_run
from robrew.rewards import load_reward_model, make_reward, save_reward_model
from robrew.rewards.factory import RewardConfig
from robrew.runs import (
    ConfigError,
    TaskConfig,
    TrainConfig,
    latest_checkpoint,
    load_learner,
    load_run_config,
)
from robrew.training.train import train


def goal_cfg(**kw) -> TrainConfig:
    base = dict(
        task=TaskConfig("tabletop_reach_goal"),
        reward=RewardConfig(),
        algo=SacConfig(her=True, params=SacParams(learning_starts=100, buffer_size=2000, batch_size=64)),
        n_envs=1,
        total_timesteps=300,
        checkpoint_every=150,
        eval_every=150,
        eval_episodes=1,
        progress_bar=False,
    )
    return TrainConfig(**{**base, **kw})


def test_goal_env_reward_is_relabellable():
    env = gym.make("robrew/TabletopReachGoal-v0")
    obs, info = env.reset(seed=0)
    assert set(obs) == {"observation", "achieved_goal", "desired_goal"} and env.observation_space.contains(obs)
    obs, reward, _, _, info = env.step(env.action_space.sample())
    assert reward == env.unwrapped.compute_reward(obs["achieved_goal"], obs["desired_goal"], info)
    batch = env.unwrapped.compute_reward(np.zeros((5, 3)), np.array([[0, 0, 0.01]] * 4 + [[1, 0, 0]]), [info] * 5)
    assert batch.tolist() == [0, 0, 0, 0, -1]  # vectorised, as HER calls it
    hit = {**obs, "desired_goal": obs["achieved_goal"]}
    assert env.unwrapped.compute_reward(hit["achieved_goal"], hit["desired_goal"], info) == 0
    env.close()


def test_sac_her_trains_checkpoints_resumes_and_evaluates(tmp_path):
    metrics = train(goal_cfg(), tmp_path)
    assert metrics["num_timesteps"] >= 300
    ckpt = latest_checkpoint(tmp_path)
    model = load_learner(goal_cfg(), ckpt)
    assert type(model.policy).__name__ == "MultiInputPolicy"
    assert load_run_config(tmp_path).algo.policy == "MultiInputPolicy"  # config.yaml says what ran
    data = np.load(ckpt / "replay.npz", allow_pickle=False)
    assert {"observations/desired_goal", "ep_start", "ep_length"} <= set(data.files)
    # The HER buffer is rebuilt exactly from the files.
    from stable_baselines3.common.vec_env import DummyVecEnv

    from robrew.env_factory import make_env

    venv = DummyVecEnv([lambda: make_env("tabletop_reach_goal")])
    resumed = load_learner(goal_cfg(), ckpt, venv)
    n = resumed.replay_buffer.pos
    assert n == int(data["pos_full"][0]) > 0
    np.testing.assert_array_equal(resumed.replay_buffer.ep_length[:n], data["ep_length"])
    np.testing.assert_array_equal(
        resumed.replay_buffer.observations["desired_goal"][:n], data["observations/desired_goal"]
    )
    resumed.replay_buffer.sample(8)  # HER relabelling runs on the rebuilt buffer
    result = evaluate_run(tmp_path, episodes=2, videos=0)
    assert result["success_rate"]["n"] == 2
    with pytest.raises(ValueError):  # a buffer of the wrong size is refused, not half-filled
        from stable_baselines3.common.buffers import ReplayBuffer

        load_replay(ReplayBuffer(10, venv.observation_space["observation"], venv.action_space), ckpt / "replay.npz")


def test_ppo_on_dict_observations_and_a_reward_model_with_obs_keys(tmp_path):
    rm = make_reward("linear_obs", obs_dim=29, obs_keys=["observation", "desired_goal"])
    save_reward_model(rm, tmp_path / "rm")
    assert load_reward_model(tmp_path / "rm").obs_keys == ("observation", "desired_goal")  # saved with the model
    cfg = goal_cfg(
        algo=PpoConfig(params=PpoParams(n_steps=64, batch_size=64, n_epochs=1)),
        reward=RewardConfig(name="linear_obs", checkpoint=str(tmp_path / "rm"), composition="add"),
        total_timesteps=128,
        checkpoint_every=64,
        eval_every=64,
    )
    metrics = train(cfg, tmp_path / "run")
    assert metrics["final_eval"]["model_return"] == metrics["final_eval"]["model_return"]  # finite, not NaN
    assert evaluate_run(tmp_path / "run", episodes=1, videos=0)["model_return"] is not None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"reward": RewardConfig(name="frame_mean")}, "relabels goals with the env's own compute_reward"),
        ({"normalize": True}, "normalize=true is not supported with Dict observations"),
        ({"task": TaskConfig("tabletop_reach")}, "needs a goal-conditioned env"),
        ({"algo": SacConfig(demos="data/demos")}, "algo.demos is not supported with Dict"),
        (
            {"algo": SacConfig(her=True, params=SacParams(learning_starts=10))},
            "relabels finished episodes, and none has ended after algo.params.learning_starts=10",
        ),
    ],
)
def test_her_misconfigurations_are_one_line(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        train(goal_cfg(**change), tmp_path)
    assert list(tmp_path.iterdir()) == []
