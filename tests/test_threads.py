"""torch_threads in every training app: 0 is the usable cores, N at most N, never more than the cores."""

import pytest
import torch

from robrew.agents.ppo import PpoConfig
from robrew.threads import set_torch_threads, usable_cores


def test_thread_settings():
    before = torch.get_num_threads()
    try:
        assert set_torch_threads(0) == usable_cores() == torch.get_num_threads()
        assert set_torch_threads(1) == 1 == torch.get_num_threads()
        assert set_torch_threads(10_000) == usable_cores()  # never more threads than cores
        with pytest.raises(ValueError, match="torch_threads must be >= 0"):
            set_torch_threads(-1)
    finally:
        torch.set_num_threads(before)


def test_the_main_job_refuses_negative_threads_before_writing(tmp_path):
    from robrew.jobs.rabc import RabcExperimentConfig, banner, run_rabc_experiment

    with pytest.raises(ValueError, match="torch_threads must be >= 0"):
        run_rabc_experiment(RabcExperimentConfig(torch_threads=-2, out_dir=str(tmp_path / "out")))
    assert not (tmp_path / "out").exists()
    assert f"{min(1, usable_cores())} torch threads" in banner(RabcExperimentConfig(torch_threads=1))


def test_robrew_train_refuses_negative_threads_before_writing(tmp_path):
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import ConfigError, TaskConfig, TrainConfig
    from robrew.training.train import train

    cfg = TrainConfig(task=TaskConfig("tabletop_reach"), reward=RewardConfig(), algo=PpoConfig(), torch_threads=-1)
    with pytest.raises(ConfigError, match="torch_threads must be >= 0"):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
