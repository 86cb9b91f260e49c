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
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from robrew.agents.algorithm import has_setting
from robrew.agents.registry import ALGORITHMS, setting_owners
from robrew.rewards.factory import RewardConfig
from robrew.runs import ConfigError, TaskConfig, TrainConfig, load_run_config
from robrew.training.train import dump, train


def _reward_option(cfg: RewardConfig):
    """A reward group option whose ``kwargs`` take new keys without Hydra's ``+``
    (``reward.kwargs.pretrained=...``): they are the model's own arguments, checked by it."""
    node = OmegaConf.structured(cfg)
    OmegaConf.set_struct(node.kwargs, False)
    return node


def register_configs() -> None:
    """Registers the schema and group options with Hydra (idempotent)."""
    from robrew.taskspec import list_tasks

    cs = ConfigStore.instance()
    cs.store(name="train", node=TrainConfig)
    for name in list_tasks():
        cs.store(group="task", name=name, node=TaskConfig(name=name))
    cs.store(group="reward", name="env", node=_reward_option(RewardConfig(name="env")))
    clip = {"model": "ViT-B-32", "pretrained": None, "alpha": 0.5}
    cs.store(group="reward", name="clip", node=_reward_option(RewardConfig(name="clip", kwargs=clip)))
    members = [{"name": "clip", "alpha": 0.0}, {"name": "clip", "alpha": 1.0}]
    ensemble = RewardConfig(name="ensemble", kwargs={"mode": "min", "members": members})
    cs.store(group="reward", name="ensemble", node=_reward_option(ensemble))
    for name, algo in ALGORITHMS.items():
        cs.store(group="algo", name=name, node=algo.config)


register_configs()


#: What a resumed run may change on the command line; the rest is the run's and stays as saved.
RESUME_OVERRIDABLE = (
    "total_timesteps",
    "checkpoint_every",
    "eval_every",
    "eval_episodes",
    "progress_bar",
    "torch_threads",
    "subprocess",
    "device",
    "reward.device",
)


def _resume_config(given: TrainConfig, overrides: list[str]) -> TrainConfig:
    """The saved config of ``given.resume``, with the command line's resumable overrides applied."""
    config = load_run_config(Path(given.resume))
    config.resume = given.resume
    for item in overrides:
        key = item.lstrip("+~").split("=", 1)[0]
        if key in ("resume", "run_dir") or key.startswith("hydra"):
            continue
        if key not in RESUME_OVERRIDABLE:
            raise ConfigError(
                f"{key} cannot change when resuming (the run was trained with the saved value); "
                f"resume may change {', '.join(RESUME_OVERRIDABLE)}"
            )
        target, source = config, given
        *parents, leaf = key.split(".")
        for p in parents:
            target, source = getattr(target, p), getattr(source, p)
        setattr(target, leaf, getattr(source, leaf))
    return config


def algo_key_error(args: list[str]) -> str | None:
    """What is wrong with the command line's ``algo=`` / ``algo.*`` overrides, in one line, or
    ``None``: an unknown algorithm, ``algo.name=`` (the group chooses it), or a setting the chosen
    algorithm does not have (each algorithm's settings are their own class,
    :mod:`robrew.agents.settings`).

    Example:
        >>> algo_key_error(["algo=sac", "algo.params.n_epochs=4"])
        'algo.params.n_epochs is a PPO setting, but algo=sac'
    """
    pairs = [arg.lstrip("+~").partition("=")[::2] for arg in args]
    if any(key == "resume" for key, _ in pairs):
        return None  # the run's saved algorithm; what a resume may change is checked against it
    chosen = next((value for key, value in reversed(pairs) if key == "algo"), "ppo")
    for name in chosen.split(","):  # a sweep: -m algo=ppo,sac
        if name not in ALGORITHMS:
            return f"algo={name}: unknown algorithm; choose one of {', '.join(ALGORITHMS)}"
        for key, _ in pairs:
            setting = key.removeprefix("algo.")
            if setting == "name":
                return f"the algorithm is chosen with algo=<name> ({', '.join(ALGORITHMS)}), not algo.name"
            if not key.startswith("algo.") or has_setting(ALGORITHMS[name].config, setting):
                continue
            owners = "/".join(setting_owners(setting)).upper()
            if owners:
                return f"{key} is a {owners} setting, but algo={name}"
            return f"{key} is not a setting of algo={name} (its settings: robrew/agents/{name}.py)"
    return None


def _remove_if_empty(path: Path) -> None:
    """Hydra makes its output directory (and its parents) before the app runs; the ones that
    stayed empty are litter. Stops at the first non-empty one and never goes above the cwd."""
    cwd = Path.cwd().resolve()
    path = path.resolve()
    while path != cwd and cwd in path.parents:
        try:
            path.rmdir()
        except OSError:
            return
        path = path.parent


def main() -> None:
    """Console entry ``robrew-train`` (task files given as ``task=<file>.yaml`` or ``task.path=``)."""
    from robrew.apps.cli_args import check_renamed_keys, task_file_overrides

    check_renamed_keys(sys.argv[1:], "robrew-train")
    if problem := algo_key_error(sys.argv[1:]):
        print(f"robrew-train: error: {problem}", file=sys.stderr)
        sys.exit(2)
    sys.argv[1:] = task_file_overrides(sys.argv[1:], "robrew-train", group=True)
    _main()


@hydra.main(version_base="1.3", config_path=None, config_name="train")
def _main(cfg: DictConfig) -> None:
    config: TrainConfig = OmegaConf.to_object(cfg)
    hydra_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        if config.resume:
            run_dir = Path(config.resume)
            config = _resume_config(config, list(HydraConfig.get().overrides.task))
        else:
            run_dir = Path(config.run_dir or hydra_dir)
        metrics = train(config, run_dir)
    except ConfigError as e:
        print(f"robrew-train: error: {e}", file=sys.stderr)
        sys.exit(2)
    finally:
        _remove_if_empty(hydra_dir)
    print(dump(metrics))
    print(f"run directory: {run_dir}")


if __name__ == "__main__":
    main()
