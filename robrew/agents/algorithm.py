"""What robrew needs to know of one RL algorithm to run it: :class:`Algorithm`.

An algorithm is a name, its settings class (``algo.*``: whether it learns off-policy and which
``algo.params`` it takes follow from it, :mod:`robrew.agents.settings`), the SB3 (or sb3-contrib)
class it builds, and its defaults per task family. Each algorithm is one file in this package that
defines its settings and one ``Algorithm``; :mod:`robrew.agents.registry` lists them.

Example:
    >>> from robrew.agents.registry import get_algorithm
    >>> algo = get_algorithm("tqc")
    >>> cls, extra = algo.load(None)                   # sb3_contrib.TQC, {}
    >>> algo.family_defaults(("tabletop", "manipulation"))["gamma"]
    0.97
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from robrew.agents.settings import AlgoConfig, OffPolicyConfig

#: The family of runs with a base policy: looked up first when ``algo.base_policy`` is set.
RESIDUAL = "residual"


def _policy_by_name(name: str, params: dict[str, Any]):
    return name


@dataclass(frozen=True)
class Algorithm:
    """One RL algorithm ``robrew-train`` can run (``algo=<name>``).

    Attributes:
        name: The ``algo=`` name.
        config: Its settings class (a subclass of :class:`~robrew.agents.settings.AlgoConfig`
            whose ``name`` defaults to ``name``; an :class:`~robrew.agents.settings.OffPolicyConfig`
            for a replay-buffer learner).
        load: ``residual`` -> (the learner class, extra constructor arguments). ``residual`` is the
            run's :class:`~robrew.agents.residual.ResidualConfig` when it has a base policy, else
            ``None``. Imports happen here, so listing algorithms loads no RL library.
        defaults: Per task family (a task tag, or :data:`RESIDUAL`), constructor arguments;
            ``"default"`` for tasks of no listed family.
        normalize: Per task family, whether ``VecNormalize`` is on when ``normalize`` is unset.
        policy_kwargs: The parameters that go into ``policy_kwargs`` instead of the constructor.
        policy: ``(policy name, params)`` -> the policy to build (a name or class); may pop the
            params that only choose it (SAC's ``critic_layer_norm``).
    """

    name: str
    config: type[AlgoConfig]
    load: Callable[[Any], tuple[type, dict[str, Any]]]
    defaults: Mapping[str, Mapping[str, Any]]
    normalize: Mapping[str, bool] = field(default_factory=dict)
    policy_kwargs: tuple[str, ...] = ("net_arch", "log_std_init")
    policy: Callable[[str, dict[str, Any]], Any] = _policy_by_name

    @property
    def off_policy(self) -> bool:
        """A replay-buffer learner (``algo.demos``, ``algo.her``, ``algo.pretrain`` are its settings)."""
        return issubclass(self.config, OffPolicyConfig)

    def family_defaults(self, tags: tuple[str, ...]) -> dict[str, Any]:
        """The defaults of the first family in ``tags`` that has some, else ``"default"``'s."""
        family = next((t for t in tags if t in self.defaults), "default")
        return dict(self.defaults.get(family, {}))

    def family_normalize(self, tags: tuple[str, ...]) -> bool:
        """Whether the first family in ``tags`` listed in ``normalize`` normalises (off if none)."""
        return next((self.normalize[t] for t in tags if t in self.normalize), False)


def has_setting(config: type, key: str) -> bool:
    """Whether the settings class ``config`` has the dotted ``key`` (relative to ``algo``).

    Example:
        >>> has_setting(SacConfig, "params.buffer_size"), has_setting(PpoConfig, "her")
        (True, False)
    """
    node: Any = config()
    for part in key.split("."):
        if not hasattr(node, "__dataclass_fields__") or part not in {f.name for f in fields(node)}:
            return False
        node = getattr(node, part)
    return True
