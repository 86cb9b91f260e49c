"""The run-directory format: what a ``robrew-train`` run writes and how it is read back.
Training writes runs and evaluation reads them; both use this module, neither imports the other.

A run directory holds::

    config.yaml          the resolved TrainConfig (task, reward, algo, seed, ...)
    reward.json          the reward config, the model's constructor config, checkpoint hashes
    resolved.json        what it trains with, defaults filled in: learner and policy class,
                         hyperparameters, normalisation, the observation layout
    command.txt          every command line that wrote to the run
    checkpoints/         step_<N>/ {learner.safetensors, learner.json, normalizer.npz/.json?,
                         replay.npz?, state.json} (no pickles: robrew.agents.learner_state) and
                         latest.json, the pointer to the live checkpoint
    curve.csv, tb/       ground-truth evaluations during training, TensorBoard logs
    reward_refit/        reward.refit runs: the reward model as last refitted (refit.csv: per round)
    metrics.json         the final summary

A checkpoint is written under a temporary name and renamed into place, then ``latest.json``
is replaced atomically; a process killed at any moment leaves the old or the new checkpoint
complete, never a half-written one.

The format is a package: :mod:`~robrew.runs.config` (the config and ``config.yaml``),
:mod:`~robrew.runs.lock` (one writer), :mod:`~robrew.runs.checkpoints`,
:mod:`~robrew.runs.sources` (the env, base policy, refitted reward and ``robrew-rabc`` output a
run acts with) and :mod:`~robrew.runs.learner` (building and loading the learner); every name
is importable from ``robrew.runs`` itself.

Example:
    >>> cfg = load_run_config(Path("runs/tabletop_push/2026-11-22_10-00-00"))
    >>> run_dir, ckpt = resolve_checkpoint("runs/tabletop_push/2026-11-22_10-00-00")
    >>> learner = load_learner(cfg, ckpt)             # rebuilt from the config, state loaded
    >>> act = policy_fn(learner, load_obs_normalizer(ckpt))
    >>> run = load_run_policy("runs/tabletop_push/2026-11-22_10-00-00")   # all of the above at once
"""

from robrew.agents.settings import Pretrain  # the off-policy actor's start (algo.pretrain)
from robrew.runs.checkpoints import latest_checkpoint, resolve_checkpoint, save_checkpoint
from robrew.runs.config import (
    ALGOS,
    CHECKPOINTS,
    CONFIG_FILE,
    FAMILY_DEFAULTS,
    FAMILY_NORMALIZE,
    LATEST,
    MODEL_FILE,
    NORMALIZER_FILE,
    RESIDUAL,
    RESOLVED_FILE,
    Algo,
    AlgoConfig,
    ConfigError,
    FinetuneReward,
    TaskConfig,
    TrainConfig,
    algo_params,
    algorithm,
    family_tags,
    load_run_config,
    off_policy_settings,
    resolve_normalize,
    resolve_task,
    save_run_config,
)
from robrew.runs.learner import (
    RunPolicy,
    build_learner,
    load_learner,
    load_obs_normalizer,
    load_run_policy,
    policy_fn,
    policy_name,
    restore_normalizer,
)
from robrew.runs.lock import LOCK_FILE, RunLock
from robrew.runs.sources import (
    BASE_POLICY_RECORD,
    REFIT_DIR,
    RabcOutput,
    base_policy_record,
    check_base_policy_unchanged,
    env_observation_fn,
    finetune_config,
    load_base_policy,
    make_run_env,
    refitted_reward_model,
    run_reward_model,
)

__all__ = [
    "ALGOS",
    "Algo",
    "AlgoConfig",
    "BASE_POLICY_RECORD",
    "CHECKPOINTS",
    "CONFIG_FILE",
    "ConfigError",
    "FAMILY_DEFAULTS",
    "FAMILY_NORMALIZE",
    "FinetuneReward",
    "LATEST",
    "LOCK_FILE",
    "MODEL_FILE",
    "NORMALIZER_FILE",
    "Pretrain",
    "REFIT_DIR",
    "RESIDUAL",
    "RESOLVED_FILE",
    "RabcOutput",
    "RunLock",
    "RunPolicy",
    "TaskConfig",
    "TrainConfig",
    "algo_params",
    "algorithm",
    "base_policy_record",
    "build_learner",
    "check_base_policy_unchanged",
    "env_observation_fn",
    "family_tags",
    "finetune_config",
    "latest_checkpoint",
    "load_base_policy",
    "load_learner",
    "load_obs_normalizer",
    "load_run_config",
    "load_run_policy",
    "off_policy_settings",
    "make_run_env",
    "policy_fn",
    "policy_name",
    "refitted_reward_model",
    "resolve_checkpoint",
    "resolve_normalize",
    "resolve_task",
    "restore_normalizer",
    "run_reward_model",
    "save_checkpoint",
    "save_run_config",
]
