"""What a run acts in and on: its env (with the residual wrapper), its base policy and the
record of it, its reward model as refitted, and fine-tuning from a ``robrew-rabc`` directory
(:class:`RabcOutput`, :func:`finetune_config`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from robrew.runs.config import ConfigError, FinetuneReward, TrainConfig, resolve_task
from robrew.taskspec import TaskSpec, TaskSpecError, load_task

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
    from robrew.agents.bc_policy import load_policy

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
        """The BC policy trained with weighting ``method`` (``none``, ``rabc``, ``return``, ``success``)."""
        return self.root / "policies" / str(method)


def finetune_config(cfg: TrainConfig, rabc_dir: str | Path) -> TrainConfig:
    """``cfg`` set up to fine-tune a BC policy of a ``robrew-rabc`` output directory (the RA-BC one
    by default; ``finetune_policy`` names another of its methods): that policy becomes
    ``algo.base_policy`` (residual RL); with ``finetune_reward=progress`` its
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
    policy, progress = out.policy(cfg.finetune_policy), out.progress_model
    if not policy.is_dir():
        have = sorted(p.name for p in (root / "policies").glob("*") if p.is_dir())
        raise ConfigError(
            f"finetune={root}: {policy} is missing (the job's methods did not include "
            f"{cfg.finetune_policy!r}); pass finetune_policy= one of {have} or rerun robrew-rabc with it"
        )
    if cfg.finetune_reward == FinetuneReward.progress and not progress.is_dir():
        raise ConfigError(f"finetune={root}: {progress} is missing; the run has no progress model")
    reward = cfg.reward
    if cfg.finetune_reward == FinetuneReward.progress:
        reward = replace(reward, name="progress", checkpoint=reward.checkpoint or str(progress.resolve()))
    algo = replace(cfg.algo, base_policy=str(policy.resolve()))
    return replace(cfg, reward=reward, algo=algo, finetune=str(root))
