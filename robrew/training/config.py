"""Hydra registration of ``robrew-train``'s typed configs (the schema itself is the run format,
:mod:`robrew.runs`, and the reward config, :mod:`robrew.rewards.factory`).

Config groups:
    task:   one option per shipped task file (``task=tabletop_push``); ``task.path`` loads any YAML.
    reward: ``env`` (the env's own reward), ``clip``, ``ensemble``; the YAML names a
            registered reward model, never an import string.
    algo:   ``ppo``, ``sac``; hyperparameters default per task family (tags) and can be
            overridden with ``algo.params.<name>=...``.

Example:
    robrew-train task=tabletop_push algo=sac total_timesteps=200000 n_envs=8 seed=1
    robrew-train task=humanoid_kneeling reward=clip reward.kwargs.pretrained=/models/vit-bigG reward.device=cuda
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from robrew.rewards.factory import RewardConfig
from robrew.runs import ALGOS, FAMILY_DEFAULTS, AlgoConfig, TaskConfig, TrainConfig, algo_params

__all__ = [
    "ALGOS",
    "FAMILY_DEFAULTS",
    "HYDRA_DIRS",
    "AlgoConfig",
    "RewardConfig",
    "TaskConfig",
    "TrainConfig",
    "algo_params",
    "register_configs",
]

HYDRA_DIRS = {
    # Run directories: runs/<task>/<time> for single runs, multirun/<time>/<job> for sweeps.
    "run": {"dir": "runs/${task.name}/${now:%Y-%m-%d_%H-%M-%S}"},
    "sweep": {"dir": "multirun/${now:%Y-%m-%d_%H-%M-%S}", "subdir": "${hydra.job.num}-${task.name}-seed${seed}"},
}


def register_configs() -> None:
    """Registers the schema and group options with Hydra (idempotent)."""
    from robrew.taskspec import list_tasks

    cs = ConfigStore.instance()
    cs.store(name="train", node=TrainConfig)
    for name in list_tasks():
        cs.store(group="task", name=name, node=TaskConfig(name=name))
    cs.store(group="reward", name="env", node=RewardConfig(name="env"))
    cs.store(
        group="reward",
        name="clip",
        node=RewardConfig(name="clip", kwargs={"model": "ViT-B-32", "pretrained": None, "alpha": 0.5}),
    )
    cs.store(
        group="reward",
        name="ensemble",
        node=RewardConfig(
            name="ensemble",
            kwargs={"mode": "min", "members": [{"name": "clip", "alpha": 0.0}, {"name": "clip", "alpha": 1.0}]},
        ),
    )
    for algo in ALGOS:
        cs.store(group="algo", name=algo, node=AlgoConfig(name=algo))
