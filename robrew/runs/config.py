"""The config a run is made from and saved with: tasks, algorithms and their settings, the
family defaults, and ``config.yaml`` (:func:`save_run_config` / :func:`load_run_config`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf, open_dict

from robrew.agents.residual import ResidualConfig
from robrew.rewards.factory import RewardConfig
from robrew.taskspec import TaskSpec, TaskSpecError, load_task

CONFIG_FILE = "config.yaml"
RESOLVED_FILE = "resolved.json"
CHECKPOINTS = "checkpoints"
LATEST = "latest.json"
MODEL_FILE = "model.zip"  # SB3 pickles of older robrew versions: recognised, never loaded
NORMALIZER_FILE = "vecnormalize.pkl"


class Algo(StrEnum):
    """The SB3 learners ``robrew-train`` runs."""

    ppo = "ppo"
    sac = "sac"


ALGOS = tuple(a.value for a in Algo)


class Pretrain(StrEnum):
    """How the SAC actor starts: from scratch, cloned from the demos, or RA-BC-weighted clone."""

    none = "none"
    bc = "bc"
    rabc = "rabc"


class FinetuneReward(StrEnum):
    """What ``finetune=`` optimises: the run's env reward alone (a sparse task's: success), or
    the ``robrew-rabc`` directory's progress model composed with it (``reward.composition``,
    e.g. ``potential``; ``reward.checkpoint`` may name another model, e.g. an ensemble)."""

    env = "env"
    progress = "progress"


# Per task family (first matching tag wins); explicit algo.params override these. SB3
# allocates the whole replay buffer up front and checkpoints save all of it (humanoid:
# 300k x 348 floats x 2 = 0.8 GB), so buffer sizes are kept moderate.
RESIDUAL = "residual"  # the family of runs with a base policy (first in the lookup when algo.base_policy is set)

FAMILY_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "ppo": {
        # Residual fine-tuning of a BC policy (algo.base_policy), ResiP's settings: a small
        # initial std, no entropy bonus, large batches of short rollouts from many envs.
        RESIDUAL: {
            "n_steps": 256,
            "batch_size": 512,
            "n_epochs": 10,
            "learning_rate": 3e-4,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "ent_coef": 0.0,
            "log_std_init": -1.5,
        },
        "tabletop": {"n_steps": 512, "batch_size": 256, "learning_rate": 1e-3, "gamma": 0.97},
        "humanoid": {"n_steps": 1024, "batch_size": 256, "learning_rate": 3e-4, "gamma": 0.99},
        "default": {"n_steps": 512, "batch_size": 128, "learning_rate": 3e-4, "gamma": 0.99},
    },
    "sac": {
        # ent_coef: SB3's "auto" starts the temperature at 1.0, which drowns tabletop rewards
        # (0-1 per step) for ~10k updates; on dense reach, 10k steps: "auto" 0% (return 5),
        # "auto_0.1" 50% (48), "auto_0.01" 50% (51).
        "tabletop": {
            "learning_rate": 1e-3,
            "gamma": 0.97,
            "buffer_size": 200_000,
            "learning_starts": 1000,
            "ent_coef": "auto_0.01",
        },
        "humanoid": {"learning_rate": 3e-4, "gamma": 0.99, "buffer_size": 300_000, "learning_starts": 5000},
        "default": {"learning_rate": 3e-4, "gamma": 0.99, "buffer_size": 300_000, "learning_starts": 1000},
    },
}


# Per algorithm and task family (first matching tag wins): VecNormalize on observations and rewards
# when ``normalize`` is left unset. Humanoid's state mixes scales over orders of magnitude (joint
# angles, velocities, actuator forces, inertias); PPO on the pose score, 8 envs: unnormalised, 0.8M
# steps gave standing 48% / kneeling 12% success; normalised, 0.4M steps gave 100% / 100%.
# Residual PPO normalises rewards (ResiP: a sparse success reward, clipped at 5) and observations.
FAMILY_NORMALIZE: dict[str, dict[str, bool]] = {"ppo": {RESIDUAL: True, "humanoid": True}, "sac": {}}


def family_tags(algo: AlgoConfig, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The tags the family tables are looked up by: the task's, after ``residual`` for a residual run."""
    return (RESIDUAL, *tags) if algo.base_policy else tuple(tags)


class ConfigError(ValueError):
    """A run config or run directory cannot work; raised before anything is trained or evaluated."""


# ---- the config a run is made from and saved with -------------------------------------------


@dataclass
class TaskConfig:
    """Which task: a shipped name, or ``path`` to any task YAML (then ``name`` is ignored)."""

    name: str = MISSING
    path: str | None = None


@dataclass
class AlgoParams:
    """SB3 hyperparameters; ``None`` keeps the task family's default (:data:`FAMILY_DEFAULTS`), else
    SB3's. Each is passed to the SB3 constructor under its own name, except ``net_arch`` and
    ``log_std_init``, which go into ``policy_kwargs``. A parameter of the other algorithm is an error.
    """

    # both
    learning_rate: float | None = None
    gamma: float | None = None
    batch_size: int | None = None
    use_sde: bool | None = None
    net_arch: list[int] | None = None  # hidden layer sizes of actor and critic
    log_std_init: float | None = None  # initial log std of the Gaussian policy
    n_steps: int | None = None  # PPO: rollout steps per env per update; SAC: n-step returns (SB3's default 1)
    # PPO
    n_epochs: int | None = None
    gae_lambda: float | None = None
    clip_range: float | None = None
    ent_coef: Any = None  # PPO: a float; SAC: a float or "auto" / "auto_0.1"
    vf_coef: float | None = None
    max_grad_norm: float | None = None
    target_kl: float | None = None
    normalize_advantage: bool | None = None
    # SAC
    buffer_size: int | None = None
    learning_starts: int | None = None
    tau: float | None = None
    train_freq: int | None = None
    gradient_steps: int | None = None
    target_update_interval: int | None = None
    critic_layer_norm: bool | None = None  # SAC: LayerNorm in the critics (RLPD)


ONLY_FOR = {
    Algo.ppo: (
        "n_epochs",
        "gae_lambda",
        "clip_range",
        "vf_coef",
        "max_grad_norm",
        "target_kl",
        "normalize_advantage",
    ),
    Algo.sac: (
        "buffer_size",
        "learning_starts",
        "tau",
        "train_freq",
        "gradient_steps",
        "target_update_interval",
        "critic_layer_norm",
    ),
}
POLICY_KWARGS = ("net_arch", "log_std_init")


@dataclass
class AlgoConfig:
    """SB3 algorithm and hyperparameters (``params`` override the task-family defaults)."""

    name: Algo = Algo.ppo
    policy: str = "MlpPolicy"  # MultiInputPolicy is used instead when observations are a Dict
    params: AlgoParams = field(default_factory=AlgoParams)
    her: bool = False  # SAC with SB3's HerReplayBuffer (goal relabelling through the env's compute_reward)
    demos: str | None = None  # SAC: a robrew demo dataset whose transitions join every batch (RLPD-style)
    demo_ratio: float = 0.5  # the fraction of each batch drawn from the demos
    pretrain: Pretrain = Pretrain.none  # SAC with demos: the actor first cloned from them (bc) or RA-BC (rabc)
    pretrain_steps: int = 2000  # gradient steps of that cloning
    actor_warmup: int = 0  # env steps after learning_starts with the actor frozen (the critic warms up)
    base_policy: str | None = None  # a BC / RA-BC policy dir: the learner adds a bounded correction
    residual: ResidualConfig = field(default_factory=ResidualConfig)  # with base_policy (robrew.agents.residual)


@dataclass
class TrainConfig:
    """Everything one training run needs; saved resolved as ``config.yaml`` in the run dir."""

    defaults: list[Any] = field(
        default_factory=lambda: [
            {"task": "tabletop_reach"},
            {"reward": "env"},
            {"algo": "ppo"},
            {"override hydra/launcher": "joblib"},
            {"override hydra/job_logging": "disabled"},  # robrew prints; no cli.log beside the run
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
    normalize: bool | None = None  # VecNormalize (obs, reward); None: the task family's (FAMILY_NORMALIZE)
    subprocess: bool = False  # SubprocVecEnv
    checkpoint_every: int = 10_000
    eval_every: int = 10_000
    eval_episodes: int = 10
    progress_bar: bool = True
    torch_threads: int = 0  # 0: the usable cores; N: at most N (1 is fastest for small MLPs when runs share a CPU)
    resume: str | None = None  # a run directory to continue
    finetune: str | None = None  # a robrew-rabc output dir: residual RL on one of its BC policies
    finetune_policy: str = "rabc"  # which: the weighting it was trained with (rabc, none, return, success)
    finetune_reward: FinetuneReward = FinetuneReward.progress  # env: the task's reward alone; progress: + its model
    run_dir: str | None = None  # default: Hydra's output directory
    # Hydra's own settings (read by Hydra, never saved with the run): where runs and sweeps go.
    hydra: Any = field(
        default_factory=lambda: {
            "output_subdir": None,  # no .hydra/: the run writes its own config.yaml
            # Microseconds in the name: two runs started in the same second get two directories.
            "run": {"dir": "runs/${task.name}/${now:%Y-%m-%d_%H-%M-%S-%f}"},
            "sweep": {
                "dir": "multirun/${now:%Y-%m-%d_%H-%M-%S}",
                "subdir": "${hydra.job.num}-${task.name}-seed${seed}",
            },
        }
    )


def resolve_normalize(cfg: TrainConfig, tags: tuple[str, ...]) -> TrainConfig:
    """``cfg`` with ``normalize`` decided: as given, else the default of the algorithm and task
    family (:data:`FAMILY_NORMALIZE`; off where none is listed). Runs save the decided value.

    Example:
        >>> resolve_normalize(cfg, ("humanoid", "pose")).normalize     # PPO: True
    """
    if cfg.normalize is not None:
        return cfg
    table = FAMILY_NORMALIZE[Algo(cfg.algo.name)]
    return replace(cfg, normalize=next((table[t] for t in family_tags(cfg.algo, tags) if t in table), False))


def algo_params(algo: AlgoConfig, tags: tuple[str, ...]) -> dict[str, Any]:
    """SB3 constructor arguments: the task family's defaults for ``algo``, overridden by the
    ``algo.params`` that are set.

    Raises:
        ConfigError: a parameter of the other algorithm is set (``algo.params.n_steps`` with SAC).
    """
    name = Algo(algo.name)
    table = FAMILY_DEFAULTS[name]
    family = next((t for t in family_tags(algo, tags) if t in table), "default")
    out = dict(table[family])
    policy_kwargs = {k: out.pop(k) for k in POLICY_KWARGS if k in out}
    for f in fields(AlgoParams):
        value = getattr(algo.params, f.name)
        if value is None:
            continue
        other = next((a for a, names in ONLY_FOR.items() if f.name in names and a != name), None)
        if other is not None:
            raise ConfigError(f"algo.params.{f.name} is a {other.value.upper()} parameter, but algo={name.value}")
        if f.name in POLICY_KWARGS:
            policy_kwargs[f.name] = list(value) if f.name == "net_arch" else value
        else:
            out[f.name] = value
    if policy_kwargs:
        out["policy_kwargs"] = policy_kwargs
    out.pop("critic_layer_norm", None)  # chooses the policy class (build_learner), not an SB3 argument
    return out


def resolve_task(cfg: TrainConfig) -> TaskSpec:
    """The run's task spec (by ``task.path`` if set, else by name)."""
    try:
        return load_task(cfg.task.path or cfg.task.name)
    except TaskSpecError as e:
        raise ConfigError(str(e)) from None


def save_run_config(run_dir: Path, cfg: TrainConfig) -> None:
    """Writes ``config.yaml`` (atomically)."""
    from robrew.io import write_text_atomic

    saved = OmegaConf.structured(cfg)
    with open_dict(saved):
        del saved["hydra"]  # Hydra's settings, not the run's
    write_text_atomic(Path(run_dir) / CONFIG_FILE, OmegaConf.to_yaml(saved))


def load_run_config(run_dir: Path) -> TrainConfig:
    """The resolved config saved in ``run_dir``.

    Raises:
        ConfigError: ``run_dir`` has no ``config.yaml``.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a robrew run directory (no {CONFIG_FILE})")
    merged = OmegaConf.merge(OmegaConf.structured(TrainConfig), OmegaConf.load(path))
    with open_dict(merged):
        del merged["hydra"]  # its interpolations mean something only inside Hydra
    return OmegaConf.to_object(merged)
