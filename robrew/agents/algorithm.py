"""What robrew needs to know of one RL algorithm to run it: :class:`Algorithm`.

An algorithm is a name, the SB3 (or sb3-contrib) class it builds, whether it learns off-policy
(replay buffer: demos, HER and SAC-style pretraining need one), the ``algo.params`` it accepts, and
its defaults per task family. Each algorithm is one file in this package that defines one
``Algorithm``; :mod:`robrew.agents.registry` lists them.

Example:
    >>> from robrew.agents.registry import get_algorithm
    >>> algo = get_algorithm("tqc")
    >>> cls, extra = algo.load(None)                   # sb3_contrib.TQC, {}
    >>> algo.family_defaults(("tabletop", "manipulation"))["gamma"]
    0.97
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The family of runs with a base policy: looked up first when ``algo.base_policy`` is set.
RESIDUAL = "residual"

#: ``algo.params`` every algorithm accepts (each under its own SB3 name; ``n_steps`` is PPO's rollout
#: length and an off-policy learner's n-step return).
COMMON_PARAMS = frozenset(
    {"learning_rate", "gamma", "batch_size", "use_sde", "net_arch", "log_std_init", "n_steps", "ent_coef"}
)
#: The parameters an off-policy learner with a replay buffer accepts (SAC's, which TQC shares).
OFF_POLICY_PARAMS = frozenset(
    {"buffer_size", "learning_starts", "tau", "train_freq", "gradient_steps", "target_update_interval"}
)


def _policy_by_name(name: str, params: dict[str, Any]):
    return name


@dataclass(frozen=True)
class Algorithm:
    """One RL algorithm ``robrew-train`` can run (``algo=<name>``).

    Attributes:
        name: The ``algo=`` name.
        load: ``residual`` -> (the learner class, extra constructor arguments). ``residual`` is the
            run's :class:`~robrew.agents.residual.ResidualConfig` when it has a base policy, else
            ``None``. Imports happen here, so listing algorithms loads no RL library.
        off_policy: A replay-buffer learner (``algo.demos``, ``algo.her``, ``algo.pretrain`` need one).
        params: The ``algo.params`` it accepts besides :data:`COMMON_PARAMS`.
        defaults: Per task family (a task tag, or :data:`RESIDUAL`), constructor arguments;
            ``"default"`` for tasks of no listed family.
        normalize: Per task family, whether ``VecNormalize`` is on when ``normalize`` is unset.
        policy_kwargs: The parameters that go into ``policy_kwargs`` instead of the constructor.
        policy: ``(policy name, params)`` -> the policy to build (a name or class); may pop the
            params that only choose it (SAC's ``critic_layer_norm``).
    """

    name: str
    load: Callable[[Any], tuple[type, dict[str, Any]]]
    off_policy: bool
    params: frozenset[str]
    defaults: Mapping[str, Mapping[str, Any]]
    normalize: Mapping[str, bool] = field(default_factory=dict)
    policy_kwargs: tuple[str, ...] = ("net_arch", "log_std_init")
    policy: Callable[[str, dict[str, Any]], Any] = _policy_by_name

    def accepts(self, param: str) -> bool:
        """Whether ``algo.params.<param>`` is one of this algorithm's."""
        return param in COMMON_PARAMS or param in self.params

    def family_defaults(self, tags: tuple[str, ...]) -> dict[str, Any]:
        """The defaults of the first family in ``tags`` that has some, else ``"default"``'s."""
        family = next((t for t in tags if t in self.defaults), "default")
        return dict(self.defaults.get(family, {}))

    def family_normalize(self, tags: tuple[str, ...]) -> bool:
        """Whether the first family in ``tags`` listed in ``normalize`` normalises (off if none)."""
        return next((self.normalize[t] for t in tags if t in self.normalize), False)
