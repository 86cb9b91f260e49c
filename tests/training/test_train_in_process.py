"""One tiny run through train() and evaluate_run() in this process (the CLIs are tested as
subprocesses elsewhere): the run directory holds what the run format promises."""

import json

import yaml

from robrew.agents.ppo import PpoConfig, PpoParams
from robrew.eval.evaluate import evaluate_run
from robrew.rewards.factory import Composition, RewardConfig
from robrew.runs import TaskConfig, TrainConfig, latest_checkpoint
from robrew.training.train import train


def test_train_then_evaluate_in_process(tmp_path):
    cfg = TrainConfig(
        task=TaskConfig("tabletop_reach"),
        reward=RewardConfig(name="linear_obs", kwargs={"obs_dim": 26}, composition=Composition.add),
        algo=PpoConfig(params=PpoParams(n_steps=64, batch_size=64, n_epochs=1)),
        n_envs=2,
        total_timesteps=256,
        checkpoint_every=128,
        eval_every=128,
        eval_episodes=2,
        progress_bar=False,
    )
    metrics = train(cfg, tmp_path)
    assert metrics["num_timesteps"] >= 256 and metrics["final_eval"]["success_rate"]["n"] == 2
    assert json.loads((tmp_path / "metrics.json").read_text())["num_timesteps"] == metrics["num_timesteps"]
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["reward"]["composition"] == "add"
    assert json.loads((tmp_path / "reward.json").read_text())["config"]["obs_dim"] == 26
    rows = (tmp_path / "curve.csv").read_text().splitlines()
    assert rows[0].startswith("timesteps,success_rate") and len(rows) >= 3  # two evaluations and the final one
    assert latest_checkpoint(tmp_path) is not None
    result = evaluate_run(tmp_path, episodes=2, videos=0)
    assert result["success_rate"]["n"] == 2 and result["model_return"] is not None
    assert json.loads((tmp_path / "eval" / "eval.json").read_text())["episodes"] == 2
    assert (tmp_path / "eval" / "report.html").stat().st_size > 1000
