"""The RL algorithms ``robrew-train`` runs (``algo=<name>``): one :class:`~robrew.agents.algorithm.Algorithm`
per file of this package, one line each below. Adding an algorithm is a new file and a line here.

Example:
    >>> sorted(ALGORITHMS)
    ['ppo', 'sac', 'tqc']
    >>> get_algorithm("sac").off_policy
    True
"""

from __future__ import annotations

from robrew.agents.algorithm import Algorithm, has_setting
from robrew.agents.ppo import PPO_ALGORITHM
from robrew.agents.sac import SAC_ALGORITHM
from robrew.agents.tqc import TQC_ALGORITHM

ALGORITHMS: dict[str, Algorithm] = {
    PPO_ALGORITHM.name: PPO_ALGORITHM,
    SAC_ALGORITHM.name: SAC_ALGORITHM,
    TQC_ALGORITHM.name: TQC_ALGORITHM,
}


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called ``name``.

    Raises:
        KeyError: no such algorithm (the message lists those there are).
    """
    try:
        return ALGORITHMS[str(name)]
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r}; choose one of {sorted(ALGORITHMS)}") from None


def setting_owners(key: str) -> list[str]:
    """The algorithms whose settings have the dotted ``key`` (relative to ``algo``), for messages.

    Example:
        >>> setting_owners("params.buffer_size"), setting_owners("residual.warmup_iters")
        (['sac', 'tqc'], ['ppo'])
    """
    return [name for name, a in ALGORITHMS.items() if has_setting(a.config, key)]
