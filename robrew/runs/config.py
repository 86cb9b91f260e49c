"""The config a run is made from and saved with: tasks, algorithms and their settings, the
family defaults, and ``config.yaml`` (:func:`save_run_config` / :func:`load_run_config`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf, open_dict

from robrew.agents.algorithm import RESIDUAL, has_setting
from robrew.agents.registry import ALGORITHMS, get_algorithm, setting_owners
from robrew.agents.settings import AlgoConfig, OffPolicyConfig
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
    """The :class:`~robrew.agents.algorithm.Algorithm` that ``algo.name`` names.

    Raises:
        ConfigError: no such algorithm, or ``algo`` (or its ``params``) is another algorithm's
            settings class (``SacConfig(name="ppo")``, ``PpoConfig(params=SacParams())``).
    """
    try:
        chosen = get_algorithm(algo.name)
    except KeyError as e:
        raise ConfigError(f"algo.name: {e.args[0]}; choose it with algo=<name>") from None
    expected = chosen.config()
    if type(algo) is not chosen.config or type(algo.params) is not type(expected.params):
        raise ConfigError(
            f"algo is a {type(algo).__name__} with {type(algo.params).__name__} but names {chosen.name}: use "
            f"{chosen.config.__name__}(params={type(expected.params).__name__}(...)) (robrew.agents.{chosen.name}), "
            f"or algo={chosen.name} on the command line"
        )
    if type(algo.residual) is not type(expected.residual):
        raise ConfigError(
            f"algo.residual is a {type(algo.residual).__name__}, but algo={chosen.name} takes a "
            f"{type(expected.residual).__name__}"
        )
    return chosen


def off_policy_settings(algo: AlgoConfig) -> OffPolicyConfig | None:
    """``algo`` if it is an off-policy learner's settings (demos, HER, pretraining), else ``None``."""
    return algo if isinstance(algo, OffPolicyConfig) else None


class ConfigError(ValueError):
    """A run config or run directory cannot work; raised before anything is trained or evaluated."""


# ---- the config a run is made from and saved with -------------------------------------------


@dataclass
class TaskConfig:
    """Which task: a shipped name, or ``path`` to any task YAML (then ``name`` is ignored)."""

    name: str = MISSING
    path: str | None = None


@dataclass
class TrainConfig:
    """Everything one training run needs; saved resolved as ``config.yaml`` in the run dir."""

    defaults: list[Any] = field(
        default_factory=lambda: [
            # This schema first, the group options over it: the chosen algo's settings class
            # (SacConfig, ...) then replaces the AlgoConfig field type instead of being cast to it.
            "_self_",
            {"task": "tabletop_reach"},
            {"reward": "env"},
            {"algo": "ppo"},
            {"override hydra/launcher": "joblib"},
            {"override hydra/job_logging": "disabled"},  # robrew prints; no cli.log beside the run
        ]
    )
    task: TaskConfig = MISSING
    reward: RewardConfig = MISSING
    algo: AlgoConfig = MISSING  # one algorithm's settings class: PpoConfig, SacConfig, ... (robrew.agents)
    seed: int = 0
    n_envs: int = 4
    total_timesteps: int = 50_000  # learner steps (SB3's count; algo.residual.hold env steps each)
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
        ConfigError: ``algo`` is not the settings class of the algorithm it names (:func:`algorithm`).
    """
    chosen = algorithm(algo)
    out = chosen.family_defaults(family_tags(algo, tags))
    policy_kwargs = {k: out.pop(k) for k in chosen.policy_kwargs if k in out}
    for f in fields(algo.params):
        value = getattr(algo.params, f.name)
        if value is None:
            continue
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


#: What runs saved before each algorithm had its own settings class hold beside their algorithm's
#: settings: every ``algo.params`` field (``null`` when unset) and these, at their defaults.
_FORMER_DEFAULTS: dict[str, Any] = {
    "her": False,
    "demos": None,
    "demo_ratio": 0.5,
    "pretrain": "none",
    "pretrain_steps": 2000,
    "actor_warmup": 0,
    "residual.zero_init": True,
    "residual.warmup_iters": 5,
}


def _drop_former_settings(algo: dict[str, Any], config: type, path: Path, prefix: str = "") -> None:
    """Removes from a saved ``algo`` section (in place) the settings ``config`` does not have that an
    older run saved at their unset value; one set to anything else is an error naming its owners."""
    for key in list(algo):
        dotted = prefix + key
        if has_setting(config, dotted):
            if isinstance(algo[key], dict):
                _drop_former_settings(algo[key], config, path, dotted + ".")
            continue
        unset = None if prefix == "params." else _FORMER_DEFAULTS.get(dotted, ...)
        if algo[key] != unset:
            owners = "/".join(setting_owners(dotted)).upper()
            what = f"a {owners} setting" if owners else "no algorithm's setting"
            raise ConfigError(f"{path}: algo.{dotted}={algo[key]} is {what}, but the run's algorithm is {config().name}")
        del algo[key]


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
    saved = OmegaConf.to_container(OmegaConf.load(path))
    algo = saved.get("algo") or {}
    try:
        chosen = get_algorithm(algo.get("name", "ppo"))
    except KeyError as e:
        raise ConfigError(f"{path}: algo.name: {e.args[0]}") from None
    _drop_former_settings(algo, chosen.config, path)
    schema = OmegaConf.structured(TrainConfig)
    schema.algo = OmegaConf.structured(chosen.config)
    merged = OmegaConf.merge(schema, saved)
    with open_dict(merged):
        del merged["hydra"]  # its interpolations mean something only inside Hydra
    return OmegaConf.to_object(merged)
