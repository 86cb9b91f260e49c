"""``robrew-rabc``: the main job (hydra app). Collects mixed-quality pick-and-place demos,
trains the stage-aware progress model, trains plain BC and RA-BC on the same demos,
evaluates both on ground truth, prints a table and the path of an HTML report.

Usage:
    robrew-rabc                                           # defaults, ~4 min on 2 CPU cores
    robrew-rabc episodes=300 'methods=[none,rabc,return]' seed=1
"""

from __future__ import annotations

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from robrew.training.rabc_experiment import RabcExperimentConfig, format_table, run_rabc_experiment

ConfigStore.instance().store(name="rabc", node=RabcExperimentConfig)


@hydra.main(version_base="1.3", config_path=None, config_name="rabc")
def main(cfg: RabcExperimentConfig) -> None:
    config = RabcExperimentConfig(**OmegaConf.to_container(cfg))
    print(
        f"robrew main job: {config.episodes} mixed demos of {config.task} -> progress model -> "
        f"{' / '.join(config.methods)} BC -> {config.eval_episodes} held-out episodes each (CPU)"
    )
    result = run_rabc_experiment(config)
    print(format_table(result))
    t = result["timings_s"]
    print(f"time: {sum(t.values()):.0f} s ({', '.join(f'{k} {v:.0f}' for k, v in t.items())})")
    print(f"report: {result['report']}")


if __name__ == "__main__":
    main()
