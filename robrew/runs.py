"""The run-directory format: what a ``robrew-train`` run writes and how it is read back.
Training writes runs and evaluation reads them; both use this module, neither imports the other.

A run directory holds::

    config.yaml          the resolved TrainConfig (task, reward, algo, seed, ...)
    reward.json          the reward config, the model's constructor config, checkpoint hashes
    resolved.json        what it trains with, defaults filled in: learner and policy class,
                         hyperparameters, normalisation, the observation layout
    command.txt          every command line that wrote to the run
    checkpoints/         step_<N>/ {learner.safetensors, learner.json, normalizer.npz/.json?,
                         replay.npz?, state.json} (no pickles: robrew.learner_state) and
                         latest.json, the pointer to the live checkpoint
    curve.csv, tb/       ground-truth evaluations during training, TensorBoard logs
    reward_refit/        reward.refit runs: the reward model as last refitted (refit.csv: per round)
    metrics.json         the final summary

A checkpoint is written under a temporary name and renamed into place, then ``latest.json``
is replaced atomically; a process killed at any moment leaves the old or the new checkpoint
complete, never a half-written one.

Example:
    >>> cfg = load_run_config(Path("runs/tabletop_push/2026-11-22_10-00-00"))
    >>> run_dir, ckpt = resolve_checkpoint("runs/tabletop_push/2026-11-22_10-00-00")
    >>> learner = load_learner(cfg, ckpt)             # rebuilt from the config, state loaded
    >>> act = policy_fn(learner, load_obs_normalizer(ckpt))
    >>> run = load_run_policy("runs/tabletop_push/2026-11-22_10-00-00")   # all of the above at once
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import MISSING, OmegaConf, open_dict

from robrew.agents.residual import ResidualConfig
from robrew.io import current_umask, write_json_atomic
from robrew.learner_state import LEARNER_JSON, LEARNER_TENSORS, NORMALIZER_NPZ, save_learner_state, save_normalizer
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
    finetune: str | None = None  # a robrew-rabc output dir: residual RL on its RA-BC policy
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


# ---- one writer per run --------------------------------------------------------------------

LOCK_FILE = ".lock"


class RunLock:
    """One writer per run directory: an exclusive ``fcntl`` lock on ``<run_dir>/.lock``, held
    until :meth:`release` (or until the process ends, however it ends: the kernel drops it).

    Example:
        >>> with RunLock(run_dir):
        ...     train(...)

    Raises:
        ConfigError: another process holds the lock (the message names its pid).
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ConfigError(
                f"{self.path.parent} is in use by another robrew process (pid {holder}); "
                "wait for it to finish, or use another run directory"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ---- checkpoints ----------------------------------------------------------------------------


def _is_checkpoint(path: Path) -> bool:
    return (path / LEARNER_JSON).is_file() and (path / LEARNER_TENSORS).is_file()


def save_checkpoint(run_dir: Path, model, vec_normalize=None, keep: int = 3) -> Path:
    """Saves the learner (+ VecNormalize statistics, + SAC replay buffer) as a new checkpoint,
    no pickles (:mod:`robrew.learner_state`).

    Written under a temporary name and renamed into place; then ``latest.json`` is replaced.
    A checkpoint of the same step that is already complete is kept as it is (nothing trained
    since), so the live checkpoint is never deleted before its replacement exists. Stale
    temporary directories of killed saves are removed (the run lock makes this the only writer).

    Args:
        run_dir: The run directory.
        model: The SB3 model.
        vec_normalize: The ``VecNormalize`` wrapper, if used.
        keep: How many checkpoints to keep (oldest are deleted after the new one is live).

    Returns:
        The checkpoint directory.
    """
    root = Path(run_dir) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    step = int(model.num_timesteps)
    final = root / f"step_{step:010d}"
    if not _is_checkpoint(final):
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
        try:
            os.chmod(tmp, 0o777 & ~current_umask())
            save_learner_state(model, tmp)
            if vec_normalize is not None:
                save_normalizer(vec_normalize, tmp)
            write_json_atomic(tmp / "state.json", {"num_timesteps": step, "saved_at": time.time()})
            if final.exists():  # an incomplete leftover of the same step
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    write_json_atomic(root / LATEST, {"checkpoint": final.name, "num_timesteps": step})
    for old in sorted(root.glob("step_*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The live checkpoint of ``run_dir``: the one ``latest.json`` names, or, when that pointer
    is missing, garbage or dangling, the newest complete ``step_*``; ``None`` if there is none."""
    root = Path(run_dir) / CHECKPOINTS
    try:
        path = root / json.loads((root / LATEST).read_text())["checkpoint"]
        if _is_checkpoint(path):
            return path
    except (OSError, ValueError, KeyError, TypeError):
        pass
    complete = [p for p in sorted(root.glob("step_*")) if _is_checkpoint(p)]
    return complete[-1] if complete else None


def resolve_checkpoint(path: str | Path) -> tuple[Path, Path]:
    """(run directory, checkpoint directory) for a run dir (its live checkpoint) or a checkpoint dir.

    Raises:
        ConfigError: ``path`` is neither, the run has no checkpoint yet, or it was written by an
            older robrew (SB3 pickles, which robrew does not load).
    """
    path = Path(path)
    if (path / MODEL_FILE).is_file() or list(path.glob(f"{CHECKPOINTS}/step_*/{MODEL_FILE}")):
        if not _is_checkpoint(path) and latest_checkpoint(path) is None:
            raise ConfigError(
                f"{path}: written by an older robrew (SB3 {MODEL_FILE} / {NORMALIZER_FILE} pickles, which run code "
                "when loaded); robrew no longer loads them: retrain the run with this version"
            )
    if _is_checkpoint(path):
        return path.parents[1], path
    if (path / CONFIG_FILE).is_file():
        ckpt = latest_checkpoint(path)
        if ckpt is None:
            raise ConfigError(f"{path}: run has no checkpoint yet ({CHECKPOINTS}/{LATEST})")
        return path, ckpt
    raise ConfigError(f"{path}: neither a run directory ({CONFIG_FILE}) nor a checkpoint ({LEARNER_JSON})")


# ---- the run's env and fine-tuning from robrew-rabc ------------------------------------------


def make_run_env(spec: TaskSpec, cfg: TrainConfig, render: bool = False, residual: bool = True):
    """One env of the run as its learner acts in it (evaluation, rollouts): the task's env, inside
    :class:`~robrew.agents.residual.ResidualAction` when ``algo.base_policy`` is set and ``residual``
    (training wraps the whole VecEnv instead: :func:`load_base_policy`).

    Raises:
        ConfigError: the base policy is missing, corrupt, or does not fit the env.
    """
    from robrew.env_factory import make_env

    env = make_env(spec, render_mode="rgb_array" if render else None)
    if not cfg.algo.base_policy or not residual:
        return env
    from robrew.agents.residual import ResidualAction

    try:
        return ResidualAction(env, load_base_policy(cfg), cfg.algo.residual)
    except (ValueError, ConfigError) as e:
        env.close()
        raise ConfigError(f"algo.base_policy: {e}") from None


def load_base_policy(cfg: TrainConfig):
    """The run's frozen base policy (``algo.base_policy``), or ``None`` without one.

    Raises:
        ConfigError: the policy files are missing or corrupt.
    """
    if not cfg.algo.base_policy:
        return None
    from robrew.bc_policy import load_policy

    try:
        return load_policy(cfg.algo.base_policy)
    except ValueError as e:
        raise ConfigError(f"algo.base_policy: {e}") from None


BASE_POLICY_RECORD = "base_policy.json"


def base_policy_record(cfg: TrainConfig) -> dict:
    """What a residual run acts on top of: the base policy's directory and the sha256 of each of
    its files (saved as ``base_policy.json``; a resumed run must find the same)."""
    from robrew.io import dir_sha256

    return {"path": str(cfg.algo.base_policy), "sha256": dir_sha256(cfg.algo.base_policy)}


def check_base_policy_unchanged(cfg: TrainConfig, run_dir: Path) -> None:
    """On resume: the base policy's files are the ones the run started with.

    Raises:
        ConfigError: they changed (resuming would correct another policy).
    """
    path = Path(run_dir) / BASE_POLICY_RECORD
    if not cfg.algo.base_policy or not path.is_file():
        return
    saved, now = json.loads(path.read_text())["sha256"], base_policy_record(cfg)["sha256"]
    if saved != now:
        from robrew.io import changed_files

        raise ConfigError(
            f"base policy {cfg.algo.base_policy} changed since this run started "
            f"({', '.join(changed_files(saved, now))} differ from "
            f"{BASE_POLICY_RECORD}); its residual was learned for the old one: start a new run"
        )


REFIT_DIR = "reward_refit"


def refitted_reward_model(cfg: TrainConfig, run_dir: Path):
    """A ``reward.refit`` run's reward model as last refitted (``<run>/reward_refit``), or ``None``
    when the run does not refit or no round has run yet.

    Raises:
        RewardConfigError: the refitted model is unreadable.
    """
    from robrew.rewards import RewardModelError, load_reward_model
    from robrew.rewards.factory import RewardConfigError

    refitted = Path(run_dir) / REFIT_DIR
    if cfg.reward.refit.every <= 0 or not refitted.is_dir():
        return None
    try:
        return load_reward_model(refitted, device=cfg.reward.device)
    except RewardModelError as e:
        raise RewardConfigError(f"reward '{cfg.reward.name}' (refitted): {e}") from None


def run_reward_model(cfg: TrainConfig, spec: TaskSpec, run_dir: Path):
    """The reward model a run optimises now: for a ``reward.refit`` run the model as last
    refitted (:func:`refitted_reward_model`), else the configured one (``None`` for the env's reward).

    Raises:
        RewardConfigError: the reward config cannot become a model, or the refitted one is unreadable.
    """
    from robrew.rewards.factory import build_reward_model

    refitted = refitted_reward_model(cfg, run_dir)
    return refitted if refitted is not None else build_reward_model(cfg.reward, spec)


def env_observation_fn(cfg: TrainConfig) -> Callable | None:
    """Learner observation -> the env's own observation, for a run whose learner also sees its
    base policy's action (reward models read the env's); ``None`` where they are the same."""
    if not cfg.algo.base_policy or not cfg.algo.residual.observe_base:
        return None
    from functools import partial

    from robrew.agents.residual import env_observation

    return partial(env_observation, act_dim=load_base_policy(cfg).act_dim)


@dataclass(frozen=True)
class RabcOutput:
    """The layout of a main-job (``robrew-rabc``) output directory: what the job writes and what
    ``finetune=`` reads, named once.

    Example:
        >>> out = RabcOutput(Path("runs/rabc"))
        >>> out.policy("rabc"), out.progress_model, out.results
    """

    root: Path

    @property
    def data(self) -> Path:
        """The datasets root the job collects into (``<root>/data``)."""
        return self.root / "data"

    @property
    def progress_model(self) -> Path:
        """The progress reward model the job trained (a ``save_reward_model`` directory)."""
        return self.root / "progress_model"

    @property
    def results(self) -> Path:
        """``results.json``: the job's config, dataset summary, progress-model metrics, policies."""
        return self.root / "results.json"

    @property
    def report(self) -> Path:
        """The job's HTML report (tables, plots, videos)."""
        return self.root / "report.html"

    def policy(self, method: str) -> Path:
        """The BC policy trained with weighting ``method`` (``none``, ``rabc``, ``return``)."""
        return self.root / "policies" / str(method)


def finetune_config(cfg: TrainConfig, rabc_dir: str | Path) -> TrainConfig:
    """``cfg`` set up to fine-tune the RA-BC policy of a ``robrew-rabc`` output directory: that
    policy becomes ``algo.base_policy`` (residual RL); with ``finetune_reward=progress`` its
    progress model becomes the reward model (``reward.name=progress``; the composition and
    weights as configured, a ``reward.checkpoint`` already set is kept).

    The run's task may differ from the directory's in its settings (a sparse-reward variant of
    the same env), not in its env.

    Example:
        >>> cfg = finetune_config(cfg, "runs/rabc")     # = robrew-train ... finetune=runs/rabc

    Raises:
        ConfigError: not a finished robrew-rabc directory, or it was trained in another env.
    """
    root = Path(rabc_dir)
    out = RabcOutput(root)
    try:
        task = json.loads(out.results.read_text())["config"]["task"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(
            f"finetune={root}: not a finished robrew-rabc output directory ({type(e).__name__}: {e})"
        ) from None
    here = resolve_task(cfg)
    try:
        theirs = load_task(task)
    except TaskSpecError:
        theirs = None
    same_env = theirs is not None and (theirs.env_id, theirs.env_kwargs.get("obs")) == (
        here.env_id,
        here.env_kwargs.get("obs"),
    )
    if task != here.name and not same_env:
        raise ConfigError(
            f"finetune={root} was trained on task {task!r}, not {here.name!r} (another env): pass task={task}"
        )
    policy, progress = out.policy("rabc"), out.progress_model
    needed = [(policy, "an RA-BC policy (methods must include rabc)")]
    if cfg.finetune_reward == FinetuneReward.progress:
        needed.append((progress, "a progress model"))
    for path, what in needed:
        if not path.is_dir():
            raise ConfigError(f"finetune={root}: {path} is missing; the run has no {what}")
    reward = cfg.reward
    if cfg.finetune_reward == FinetuneReward.progress:
        reward = replace(reward, name="progress", checkpoint=reward.checkpoint or str(progress.resolve()))
    algo = replace(cfg.algo, base_policy=str(policy.resolve()))
    return replace(cfg, reward=reward, algo=algo, finetune=str(root))


# ---- building and loading a learner ---------------------------------------------------------


def policy_name(cfg: TrainConfig, observation_space) -> str:
    """The SB3 policy a run builds: ``algo.policy``, with ``MlpPolicy`` becoming
    ``MultiInputPolicy`` for Dict observations (what ``config.yaml`` records)."""
    from gymnasium import spaces

    if isinstance(observation_space, spaces.Dict) and cfg.algo.policy == "MlpPolicy":
        return "MultiInputPolicy"
    return cfg.algo.policy


def build_learner(
    cfg: TrainConfig, spec: TaskSpec, venv, tensorboard_log: str | None = None, with_demos: bool = True, **overrides
):
    """A new SB3 PPO/SAC on ``venv`` with the task family's defaults and ``cfg.algo.params``
    (and, with ``cfg.algo.demos`` and ``with_demos``, a replay buffer that mixes demonstrations
    into every batch; the caller sets them, see :mod:`robrew.demo_replay`).

    Raises:
        ConfigError: SB3 rejects the hyperparameters (the message names the algorithm and the problem).
    """
    from gymnasium import spaces
    from stable_baselines3 import PPO, SAC

    cls = {Algo.ppo: PPO, Algo.sac: SAC}[Algo(cfg.algo.name)]
    params = {**algo_params(cfg.algo, spec.tags), **overrides}
    if cfg.algo.base_policy and cls is PPO:
        from robrew.agents.residual_ppo import ResidualPPO

        cls = ResidualPPO
        params.update(warmup_iters=cfg.algo.residual.warmup_iters, zero_init=cfg.algo.residual.zero_init)
    policy = policy_name(cfg, venv.observation_space)
    if cfg.algo.params.critic_layer_norm and policy in ("MlpPolicy", "MultiInputPolicy"):
        from robrew.policies import LayerNormMultiInputSACPolicy, LayerNormSACPolicy

        policy = LayerNormSACPolicy if policy == "MlpPolicy" else LayerNormMultiInputSACPolicy
    if cfg.algo.her:
        if Algo(cfg.algo.name) != Algo.sac:
            raise ConfigError("algo.her=true needs an off-policy learner: use algo=sac")
        if not isinstance(venv.observation_space, spaces.Dict) or "desired_goal" not in venv.observation_space.spaces:
            raise ConfigError("algo.her=true needs a goal-conditioned env (Dict observations with desired_goal)")
        if params.get("n_steps", 1) > 1:
            raise ConfigError("algo.params.n_steps > 1 (n-step returns) does not work with algo.her=true")
        from stable_baselines3 import HerReplayBuffer

        params["replay_buffer_class"] = HerReplayBuffer
        params["replay_buffer_kwargs"] = {"n_sampled_goal": 4, "goal_selection_strategy": "future"}
    if cfg.algo.demos and with_demos:
        if Algo(cfg.algo.name) != Algo.sac or cfg.algo.her:
            raise ConfigError("algo.demos needs algo=sac without HER (demos join SAC's replay batches)")
        if not 0.0 <= cfg.algo.demo_ratio < 1.0:
            raise ConfigError(f"algo.demo_ratio must be in [0, 1), got {cfg.algo.demo_ratio}")
        from robrew.demo_replay import DemoMixReplayBuffer

        params["replay_buffer_class"] = DemoMixReplayBuffer
        params["replay_buffer_kwargs"] = {
            "demo_ratio": cfg.algo.demo_ratio,
            "n_steps": params.pop("n_steps", 1),  # SB3 leaves n-step returns to a custom buffer: ours does them
            "gamma": params.get("gamma", 0.99),  # SAC's own default
        }
    try:
        return cls(policy, venv, seed=cfg.seed, device=cfg.device, tensorboard_log=tensorboard_log, verbose=0, **params)
    except (TypeError, ValueError, AssertionError, RuntimeError) as e:
        raise ConfigError(f"algo '{cfg.algo.name}': {e}") from None


def load_learner(cfg: TrainConfig, checkpoint: Path, venv=None, tensorboard_log: str | None = None):
    """The learner saved in ``checkpoint``, rebuilt from ``cfg`` and bound to ``venv``.

    Without a ``venv`` (evaluation) it is bound to one plain env of the task, for the spaces,
    and the replay buffer is neither allocated nor loaded.

    Raises:
        ConfigError: a state file is missing, unreadable, or does not fit the config.
    """
    from robrew.learner_state import StateFileError, load_learner_state

    spec = resolve_task(cfg)
    overrides = {}
    if venv is None:
        from stable_baselines3.common.vec_env import DummyVecEnv

        venv = DummyVecEnv([lambda: make_run_env(spec, cfg)])  # the learner's spaces (a residual's too)
        if Algo(cfg.algo.name) == Algo.sac:
            overrides = {"buffer_size": 1, "learning_starts": 0}
    import warnings

    with warnings.catch_warnings():  # PPO's advice on batch sizes for the 1-env venv evaluation binds it to
        warnings.filterwarnings("ignore", message="(?s).*batch_size.*factor", category=UserWarning)
        model = build_learner(cfg, spec, venv, tensorboard_log, with_demos=not overrides, **overrides)
    try:
        load_learner_state(model, checkpoint, replay=not overrides)
    except StateFileError as e:
        raise ConfigError(str(e)) from None
    return model


def load_obs_normalizer(checkpoint: Path):
    """The checkpoint's frozen observation normaliser (``normalize_obs``), or ``None`` if the run
    did not normalise."""
    from robrew.learner_state import ObsNormalizer, StateFileError

    if not (Path(checkpoint) / NORMALIZER_NPZ).is_file():
        return None
    try:
        return ObsNormalizer(checkpoint)
    except (StateFileError, KeyError) as e:
        raise ConfigError(str(e)) from None


def restore_normalizer(vec_normalize, checkpoint: Path) -> None:
    """Loads the checkpoint's VecNormalize statistics into a freshly built ``vec_normalize`` (resume)."""
    from robrew.learner_state import StateFileError, load_normalizer_stats

    if not (Path(checkpoint) / NORMALIZER_NPZ).is_file():
        return
    try:
        load_normalizer_stats(vec_normalize, checkpoint)
    except (StateFileError, KeyError) as e:
        raise ConfigError(str(e)) from None


def policy_fn(model, vec_normalize=None, deterministic: bool = True):
    """The policy on raw observations (normalised like training if needed): its mean action, or
    with ``deterministic=False`` an action sampled from it."""

    def act(obs: np.ndarray) -> np.ndarray:
        if vec_normalize is not None:
            obs = vec_normalize.normalize_obs(obs)
        return model.predict(obs, deterministic=deterministic)[0]

    return act


@dataclass
class RunPolicy:
    """A trained run's policy, ready to act (what evaluation and reward checks roll out)."""

    run_dir: Path
    checkpoint: Path
    cfg: TrainConfig
    spec: TaskSpec
    learner: Any  # the SB3 model, state loaded from ``checkpoint``
    act: Callable[[np.ndarray], np.ndarray]  # raw observation -> deterministic action (:func:`policy_fn`)
    env_obs: Callable | None = None  # the env's own observation in the learner's (:func:`env_observation_fn`)

    def make_env(self, render: bool = False):
        """One env of the run as its learner acts in it (:func:`make_run_env`)."""
        return make_run_env(self.spec, self.cfg, render)


def load_run_policy(path: str | Path) -> RunPolicy:
    """The policy of a run directory (its live checkpoint) or of one checkpoint: config, task,
    learner and the deterministic actor with the checkpoint's observation normaliser.

    Example:
        >>> run = load_run_policy("runs/tabletop_push/2026-11-22_10-00-00")
        >>> env = run.make_env(); obs, _ = env.reset(seed=0); env.step(run.act(obs))

    Raises:
        ConfigError: ``path`` is neither a run nor a checkpoint, or its config or task cannot load.
    """
    run_dir, ckpt = resolve_checkpoint(path)
    cfg = load_run_config(run_dir)
    spec = resolve_task(cfg)
    learner = load_learner(cfg, ckpt, venv=None)
    act = policy_fn(learner, load_obs_normalizer(ckpt))
    return RunPolicy(run_dir, ckpt, cfg, spec, learner, act, env_observation_fn(cfg))
