"""The config a run is made from and saved with: tasks, algorithms and their settings, the
family defaults, and ``config.yaml`` (:func:`save_run_config` / :func:`load_run_config`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf, open_dict

from robrew.agents.algorithm import RESIDUAL
from robrew.agents.registry import ALGORITHMS, get_algorithm
from robrew.agents.residual import ResidualConfig
from robrew.rewards.factory import RewardConfig
from robrew.taskspec import TaskSpec, TaskSpecError, load_task

CONFIG_FILE = "config.yaml"
RESOLVED_FILE = "resolved.json"
CHECKPOINTS = "checkpoints"
LATEST = "latest.json"
MODEL_FILE = "model.zip"  # SB3 pickles of older robrew versions: recognised, never loaded
NORMALIZER_FILE = "vecnormalize.pkl"


#: The learners ``robrew-train`` runs: one per entry of :data:`robrew.agents.registry.ALGORITHMS`.
Algo = StrEnum("Algo", {name: name for name in ALGORITHMS}, module=__name__)

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


# Per algorithm and task family (first matching tag wins): constructor defaults, which explicit
# algo.params override, and whether VecNormalize is on. The tables are the algorithms' own
# (robrew/agents/<algo>.py, where each says why), not copies.
FAMILY_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {n: a.defaults for n, a in ALGORITHMS.items()}
FAMILY_NORMALIZE: dict[str, dict[str, bool]] = {n: a.normalize for n, a in ALGORITHMS.items()}


def family_tags(algo: AlgoConfig, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The tags the family tables are looked up by: the task's, after ``residual`` for a residual run."""
    return (RESIDUAL, *tags) if algo.base_policy else tuple(tags)


def algorithm(algo: AlgoConfig):
    """The :class:`~robrew.agents.algorithm.Algorithm` that ``algo.name`` names."""
    return get_algorithm(algo.name)


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
    SB3's. Each is passed to the learner's constructor under its own name, except those its
    algorithm puts into ``policy_kwargs`` (``net_arch``, ``log_std_init``, TQC's ``n_quantiles``).
    A parameter the algorithm does not take is an error (:meth:`Algorithm.accepts
    <robrew.agents.algorithm.Algorithm.accepts>`).
    """

    # every algorithm
    learning_rate: float | None = None
    gamma: float | None = None
    batch_size: int | None = None
    use_sde: bool | None = None
    net_arch: list[int] | None = None  # hidden layer sizes of actor and critic
    log_std_init: float | None = None  # initial log std of the Gaussian policy
    n_steps: int | None = None  # PPO: rollout steps per env per update; SAC/TQC: n-step returns (SB3's default 1)
    ent_coef: Any = None  # PPO: a float; SAC/TQC: a float or "auto" / "auto_0.1"
    # PPO
    n_epochs: int | None = None
    gae_lambda: float | None = None
    clip_range: float | None = None
    vf_coef: float | None = None
    max_grad_norm: float | None = None
    target_kl: float | None = None
    normalize_advantage: bool | None = None
    # off-policy (SAC, TQC)
    buffer_size: int | None = None
    learning_starts: int | None = None
    tau: float | None = None
    train_freq: int | None = None
    gradient_steps: int | None = None
    target_update_interval: int | None = None
    # SAC
    critic_layer_norm: bool | None = None  # LayerNorm in the critics (RLPD)
    # TQC
    top_quantiles_to_drop_per_net: int | None = None
    n_quantiles: int | None = None  # quantiles per critic


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
    return replace(cfg, normalize=algorithm(cfg.algo).family_normalize(family_tags(cfg.algo, tags)))


def algo_params(algo: AlgoConfig, tags: tuple[str, ...]) -> dict[str, Any]:
    """SB3 constructor arguments: the task family's defaults for ``algo``, overridden by the
    ``algo.params`` that are set.

    Raises:
        ConfigError: a parameter this algorithm does not take is set (``algo.params.n_epochs`` with SAC).
    """
    chosen = algorithm(algo)
    out = chosen.family_defaults(family_tags(algo, tags))
    policy_kwargs = {k: out.pop(k) for k in chosen.policy_kwargs if k in out}
    for f in fields(AlgoParams):
        value = getattr(algo.params, f.name)
        if value is None:
            continue
        if not chosen.accepts(f.name):
            owners = "/".join(n.upper() for n, a in ALGORITHMS.items() if a.accepts(f.name))
            raise ConfigError(f"algo.params.{f.name} is a {owners} parameter, but algo={chosen.name}")
        if f.name in chosen.policy_kwargs:
            policy_kwargs[f.name] = list(value) if f.name == "net_arch" else value
        else:
            out[f.name] = value
    if policy_kwargs:
        out["policy_kwargs"] = policy_kwargs
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
