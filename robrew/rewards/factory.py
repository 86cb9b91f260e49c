"""Typed reward configs -> reward models: the one place a config becomes a model.

Training, evaluation and the CLIs all build their reward model here, so a run is scored
the same way when it trains and when it is judged.

Example:
    >>> cfg = RewardConfig(name="clip", kwargs={"model": "ViT-B-32", "pretrained": "/models/clip"})
    >>> model = build_reward_model(cfg, load_task("humanoid_kneeling"))   # prompts from the task
    >>> build_reward_model(RewardConfig(name="env"), spec) is None          # the env's own reward
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robrew.rewards.base import RewardModel, RewardModelError

if TYPE_CHECKING:
    from robrew.taskspec import TaskSpec

#: ``RewardConfig.name`` for "no reward model: the env's own reward".
ENV_REWARD = "env"


class Composition(StrEnum):
    """How a model reward combines with the env reward (see :class:`robrew.wrappers.RewardComposition`)."""

    replace = "replace"
    add = "add"
    weighted = "weighted"
    potential = "potential"
    delta = "delta"


class RewardConfigError(ValueError):
    """A reward config cannot become a model; the message names the reward and the problem."""


@dataclass
class RefitConfig:
    """Refitting a learned progress reward during RL on the policy's own states (GAIL / VICE-style
    rounds): every ``every`` env steps (0: never), ``steps`` optimiser steps on the demos (labelled
    as in training) plus a pool of the policy's states labelled "no progress" (``negatives``
    policy frames per demo frame, spanning the run). ``demos``: the dataset (default: the one the checkpoint was
    trained on, from its ``report.json``). ``lr``: the optimiser's learning rate."""

    every: int = 0
    steps: int = 200
    negatives: float = 1.0
    lr: float = 3e-4
    demos: str | None = None


@dataclass
class RewardConfig:
    """Which reward the learner optimises.

    ``name``: ``env`` or a registered reward model. ``kwargs``: its constructor arguments
    (CLIP prompts default to the task's). ``checkpoint``: a saved reward-model directory
    (learned models). ``device``: where the reward model runs (the policy has its own).
    ``composition``: replace | add | weighted | potential (r_env + γΦ(s') - Φ(s), γ the
    learner's; Φ = 0 after termination, kept on truncation) | delta (Φ(s') - Φ(s)).
    ``success_threshold``: adds ``info["model_success"]``. ``refit``: retrain a state progress
    model on the policy's states as training goes (:class:`RefitConfig`).
    """

    name: str = ENV_REWARD
    kwargs: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    device: str = "cpu"
    composition: Composition = Composition.replace
    env_weight: float = 1.0
    model_weight: float = 1.0
    success_threshold: float | None = None
    refit: RefitConfig = field(default_factory=RefitConfig)


def _with_task_prompts(name: str, kwargs: dict, spec: TaskSpec | None) -> dict:
    """CLIP models (alone or as ensemble members) default to the task's goal/baseline prompts."""
    kwargs = dict(kwargs)
    if spec is None:
        return kwargs
    if name == "clip":
        kwargs.setdefault("goal_prompts", list(spec.goal_prompts))
        kwargs.setdefault("baseline_prompts", list(spec.baseline_prompts))
    if name == "ensemble":
        kwargs["members"] = [_with_task_prompts(m.get("name", ""), m, spec) for m in kwargs.get("members", [])]
    return kwargs


def build_reward_model(cfg: RewardConfig, spec: TaskSpec | None = None) -> RewardModel | None:
    """The reward model of ``cfg`` (``None`` for ``name="env"``).

    Args:
        cfg: The reward config.
        spec: The task, for defaults (CLIP prompts); optional.

    Raises:
        RewardConfigError: unknown name, bad arguments, or a checkpoint that cannot be loaded.
    """
    if cfg.name == ENV_REWARD:
        return None
    from robrew.rewards.registry import load_reward_model, make_reward, reward_class

    try:
        if cfg.checkpoint:
            return load_reward_model(cfg.checkpoint, device=cfg.device)
        reward_class(cfg.name)  # unknown names fail here with the list of known ones
        return make_reward(cfg.name, device=cfg.device, **_with_task_prompts(cfg.name, cfg.kwargs, spec))
    except (ValueError, TypeError, RewardModelError) as e:
        raise RewardConfigError(f"reward '{cfg.name}': {e}") from None


def reward_record(cfg: RewardConfig, model: RewardModel | None) -> dict:
    """What a run records about its reward (``reward.json``): the config, the model's
    constructor config and, for a checkpoint, the sha256 of each of its files."""
    record = {"name": cfg.name, "device": cfg.device, "composition": str(cfg.composition)}
    if model is not None:
        record["config"] = model.config()
    if cfg.checkpoint:
        from robrew.io import dir_sha256

        record["checkpoint"] = str(Path(cfg.checkpoint).resolve())
        record["checkpoint_sha256"] = dir_sha256(cfg.checkpoint)
    return record
