"""``robrew-train``: train a policy on a task with a chosen reward (a Hydra app).

Usage:
    robrew-train task=tabletop_push algo=ppo total_timesteps=200000
    robrew-train task=humanoid_kneeling reward=clip reward.kwargs.pretrained=/models/clip reward.device=cuda
    robrew-train resume=runs/tabletop_push/2026-11-22_10-00-00      # continue from the last checkpoint
    robrew-train -m seed=0,1,2 task=tabletop_reach                   # sweep (joblib launcher)

Each run writes to its Hydra output directory (``runs/<task>/<date_time>``): config.yaml,
command.txt, reward.json, checkpoints/, tb/ (TensorBoard), curve.csv and metrics.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from robrew.training.config import HYDRA_DIRS, TrainConfig, register_configs
from robrew.training.train import ConfigError, dump, load_run_config, train

register_configs()
FREE_FORM = ("algo.params.", "reward.kwargs.")


def main() -> None:
    """Console entry: adds robrew's run-directory layout unless the command line sets its own."""
    defaults = [
        f"hydra.run.dir={HYDRA_DIRS['run']['dir']}",
        f"hydra.sweep.dir={HYDRA_DIRS['sweep']['dir']}",
        f"hydra.sweep.subdir={HYDRA_DIRS['sweep']['subdir']}",
    ]
    given = {a.split("=", 1)[0] for a in sys.argv[1:]}
    # Free-form dicts take new keys without Hydra's '+' prefix: algo.params.n_steps=256.
    sys.argv[1:] = ["++" + a if a.startswith(FREE_FORM) else a for a in sys.argv[1:]]
    sys.argv += [d for d in defaults if d.split("=", 1)[0] not in given]
    _main()


@hydra.main(version_base="1.3", config_path=None, config_name="train")
def _main(cfg: DictConfig) -> None:
    config: TrainConfig = OmegaConf.to_object(cfg)
    try:
        if config.resume:
            run_dir = Path(config.resume)
            config = load_run_config(run_dir)
            config.resume = str(run_dir)
        else:
            run_dir = Path(config.run_dir or HydraConfig.get().runtime.output_dir)
        metrics = train(config, run_dir)
    except ConfigError as e:
        print(f"robrew-train: error: {e}", file=sys.stderr)
        sys.exit(2)
    print(dump(metrics))
    print(f"run directory: {run_dir}")


if __name__ == "__main__":
    main()
