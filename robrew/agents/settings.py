"""The settings every algorithm's own settings class builds on (``algo.*`` of ``robrew-train``).

Each algorithm file (:mod:`robrew.agents.ppo`, :mod:`~robrew.agents.sac`, :mod:`~robrew.agents.tqc`)
defines one settings class and one class of hyperparameters, so a run's ``algo`` section holds
only what its algorithm reads: ``algo=sac algo.params.n_epochs=4`` (a PPO parameter) or
``algo=ppo algo.her=true`` (an off-policy setting) is refused before anything runs.

- :class:`AlgoConfig` / :class:`CommonParams`: what every algorithm has (the policy, a residual
  base policy, learning rate, discount, batch size, network).
- :class:`OffPolicyConfig` / :class:`OffPolicyParams`: what replay-buffer learners add (demos
  mixed into every batch, HER, actor pretraining and warm-up; buffer size, ``tau``, n-step returns).

Example:
    >>> from robrew.agents.sac import SacConfig, SacParams
    >>> algo = SacConfig(demos="data/demos", params=SacParams(buffer_size=100_000, critic_layer_norm=True))
    >>> algo.name, algo.params.buffer_size
    ('sac', 100000)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from omegaconf import MISSING

from robrew.agents.residual import ResidualConfig


@dataclass
class CommonParams:
    """SB3 hyperparameters every algorithm takes; ``None`` keeps the task family's default (the
    algorithm file's ``defaults``), else SB3's. Each goes to the learner's constructor under its own
    name, except those the algorithm puts into ``policy_kwargs`` (``net_arch``, ``log_std_init``)."""

    learning_rate: float | None = None
    gamma: float | None = None
    batch_size: int | None = None
    use_sde: bool | None = None  # state-dependent exploration noise (gSDE)
    net_arch: list[int] | None = None  # hidden layer sizes of actor and critic
    log_std_init: float | None = None  # initial log std of the Gaussian policy


@dataclass
class AlgoConfig:
    """What every algorithm's settings have. Never used alone: a run's ``algo`` is one algorithm's
    subclass (``PpoConfig``, ``SacConfig``, ...), chosen with ``algo=<name>``; ``name`` says which."""

    name: str = MISSING  # set by each algorithm's class; choose the algorithm with algo=<name>
    policy: str = "MlpPolicy"  # MultiInputPolicy is used instead when observations are a Dict
    params: CommonParams = field(default_factory=CommonParams)
    base_policy: str | None = None  # a BC / RA-BC policy dir: the learner adds a bounded correction
    residual: ResidualConfig = field(default_factory=ResidualConfig)  # with base_policy (robrew.agents.residual)


@dataclass
class OffPolicyParams(CommonParams):
    """Hyperparameters of replay-buffer learners (SAC, TQC), beside :class:`CommonParams`."""

    ent_coef: Any = None  # entropy temperature: a float, "auto" or "auto_<initial value>"
    n_steps: int | None = None  # n-step returns (SB3's default: 1)
    buffer_size: int | None = None
    learning_starts: int | None = None
    tau: float | None = None
    train_freq: int | None = None
    gradient_steps: int | None = None
    target_update_interval: int | None = None


class Pretrain(StrEnum):
    """How an off-policy actor starts: from scratch, cloned from the demos, or RA-BC-weighted clone."""

    none = "none"
    bc = "bc"
    rabc = "rabc"


@dataclass
class OffPolicyConfig(AlgoConfig):
    """What replay-buffer learners add to :class:`AlgoConfig`."""

    params: OffPolicyParams = field(default_factory=OffPolicyParams)
    her: bool = False  # SB3's HerReplayBuffer (goal relabelling through the env's compute_reward)
    demos: str | None = None  # a robrew demo dataset whose transitions join every batch (RLPD-style)
    demo_ratio: float = 0.5  # the fraction of each batch drawn from the demos
    pretrain: Pretrain = Pretrain.none  # with demos: the actor first cloned from them (bc) or RA-BC (rabc)
    pretrain_steps: int = 2000  # gradient steps of that cloning
    actor_warmup: int = 0  # env steps after learning_starts with the actor frozen (the critic warms up)
