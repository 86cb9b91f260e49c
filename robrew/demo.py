"""``robrew-demo``: the quick-start job (hydra app). Trains PPO on a tabletop task with the
env's own reward and prints the ground-truth success rate next to a random policy's.

Usage:
    robrew-demo                                   # defaults: tabletop_reach, 60k steps
    robrew-demo task=tabletop_push total_timesteps=200000 n_envs=8
"""

from __future__ import annotations

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from robrew.training.quickstart import QuickstartConfig, train_and_evaluate

ConfigStore.instance().store(name="quickstart", node=QuickstartConfig)


@hydra.main(version_base="1.3", config_path=None, config_name="quickstart")
def main(cfg: QuickstartConfig) -> None:
    config = QuickstartConfig(**OmegaConf.to_container(cfg))
    print(f"robrew quick start: PPO on {config.task} for {config.total_timesteps} steps ({config.n_envs} envs, CPU)")
    r = train_and_evaluate(config)
    n = config.eval_episodes
    print(f"{'policy':<12}{'success rate':>14}{'mean return':>14}   ({n} held-out episodes, ground truth)")
    print(f"{'PPO':<12}{r['success_rate']:>14.0%}{r['mean_return']:>14.1f}")
    print(f"{'random':<12}{r['random_success_rate']:>14.0%}{r['random_mean_return']:>14.1f}")
    print(f"training speed: {r['env_steps_per_s']:.0f} env steps/s; model and metrics.json in {config.out_dir}/")


if __name__ == "__main__":
    main()
