"""Typed (structured) configs of ``robrew-train`` and their Hydra registration.

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

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

ALGOS = ("ppo", "sac")

# Per task family (first matching tag wins); explicit algo.params override these. SB3
# allocates the whole replay buffer up front and checkpoints save all of it (humanoid:
# 300k x 348 floats x 2 = 0.8 GB), so buffer sizes are kept moderate.
FAMILY_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "ppo": {
        "tabletop": {"n_steps": 512, "batch_size": 256, "learning_rate": 1e-3, "gamma": 0.97},
        "humanoid": {"n_steps": 1024, "batch_size": 256, "learning_rate": 3e-4, "gamma": 0.99},
        "default": {"n_steps": 512, "batch_size": 128, "learning_rate": 3e-4, "gamma": 0.99},
    },
    "sac": {
        "tabletop": {"learning_rate": 1e-3, "gamma": 0.97, "buffer_size": 200_000, "learning_starts": 1000},
        "humanoid": {"learning_rate": 3e-4, "gamma": 0.99, "buffer_size": 300_000, "learning_starts": 5000},
        "default": {"learning_rate": 3e-4, "gamma": 0.99, "buffer_size": 300_000, "learning_starts": 1000},
    },
}


@dataclass
class TaskConfig:
    """Which task: a shipped name, or ``path`` to any task YAML (then ``name`` is ignored)."""

    name: str = MISSING
    path: str | None = None


@dataclass
class RewardConfig:
    """Which reward the learner optimises.

    ``name``: ``env`` or a registered reward model. ``kwargs``: its constructor arguments
    (CLIP prompts default to the task's). ``checkpoint``: a saved reward-model directory
    (learned models). ``device``: where the reward model runs (the policy has its own).
    ``composition``: replace | add | weighted | potential (r_env + γΦ(s') - Φ(s), γ the
    learner's) | delta (Φ(s') - Φ(s)). ``success_threshold``: adds ``info["model_success"]``.
    """

    name: str = "env"
    kwargs: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    device: str = "cpu"
    composition: str = "replace"
    env_weight: float = 1.0
    model_weight: float = 1.0
    success_threshold: float | None = None


@dataclass
class AlgoConfig:
    """SB3 algorithm and hyperparameters (``params`` override the task-family defaults)."""

    name: str = "ppo"
    policy: str = "MlpPolicy"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainConfig:
    """Everything one training run needs; saved resolved as ``config.yaml`` in the run dir."""

    defaults: list[Any] = field(
        default_factory=lambda: [
            {"task": "tabletop_reach"},
            {"reward": "env"},
            {"algo": "ppo"},
            {"override hydra/launcher": "joblib"},
            "_self_",
        ]
    )
    task: TaskConfig = MISSING
    reward: RewardConfig = MISSING
    algo: AlgoConfig = MISSING
    seed: int = 0
    n_envs: int = 4
    total_timesteps: int = 50_000
    device: str = "cpu"
    normalize: bool = False  # VecNormalize on observations
    subprocess: bool = False  # SubprocVecEnv
    checkpoint_every: int = 10_000
    eval_every: int = 10_000
    eval_episodes: int = 10
    progress_bar: bool = True
    torch_threads: int = 0  # 0: torch's default; 1 is fastest for small MLP policies when runs share a CPU
    resume: str | None = None  # a run directory to continue
    run_dir: str | None = None  # default: Hydra's output directory


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


def algo_params(algo: AlgoConfig, tags: tuple[str, ...]) -> dict[str, Any]:
    """The task family's defaults for ``algo``, overridden by ``algo.params``."""
    table = FAMILY_DEFAULTS[algo.name]
    family = next((t for t in tags if t in table), "default")
    return {**table[family], **dict(algo.params)}
