"""``robrew-rabc``, the main job's command line (the pipeline: :mod:`robrew.jobs.rabc`).

Usage:
    robrew-rabc                                           # defaults, ~75 s on 2 CPU cores
    robrew-rabc episodes=300 'methods=[none,rabc,return]' seed=1
    robrew-rabc task=my_task.yaml data_dir=data/robrew/my_task/recorded-v0
"""

from __future__ import annotations

import sys

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from robrew.jobs.rabc import RabcExperimentConfig, banner, format_table, run_rabc_experiment

ConfigStore.instance().store(name="rabc", node=RabcExperimentConfig)


def main() -> None:
    """Console entry ``robrew-rabc`` (task files given as ``task=<file>.yaml`` or ``task.path=``)."""
    from robrew.apps.cli_args import check_renamed_keys, task_file_overrides

    check_renamed_keys(sys.argv[1:], "robrew-rabc")
    sys.argv[1:] = task_file_overrides(sys.argv[1:], "robrew-rabc", group=False)
    _main()


@hydra.main(version_base="1.3", config_path=None, config_name="rabc")
def _main(cfg: RabcExperimentConfig) -> None:
    from robrew.data.demos import DatasetError
    from robrew.runs import ConfigError
    from robrew.taskspec import TaskSpecError

    config: RabcExperimentConfig = OmegaConf.to_object(cfg)
    try:
        print(banner(config))  # names the task's demos: an unknown task is refused here
        result = run_rabc_experiment(config, on_phase=lambda line: print(line, flush=True))
    except (ConfigError, DatasetError, TaskSpecError) as e:  # bad settings or data: one line, exit 2
        print(f"robrew-rabc: error: {str(e).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    print(format_table(result))
    t = result["timings_s"]
    print(f"time: {sum(t.values()):.0f} s ({', '.join(f'{k} {v:.0f}' for k, v in t.items())})")
    print(f"report: {result['report']}")


if __name__ == "__main__":
    main()
