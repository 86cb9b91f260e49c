"""Dict observations as flat vectors: the one rule every consumer uses (reward models, BC, demos).

A Dict observation (Gymnasium ``spaces.Dict``, e.g. ``observation`` / ``achieved_goal`` /
``desired_goal``) becomes one float32 vector per row: the chosen keys, each flattened,
concatenated in the given order. Plain array observations pass through unchanged.

Accepted shapes: a batched dict ``{key: (B, ...)}`` (SB3, Gymnasium vector envs, a demo's
observations), a sequence of per-row dicts (single envs, terminal observations), or, with
``row=True``, one observation ``{key: (...)}``.

Example:
    >>> obs = {"observation": np.zeros((5, 26)), "desired_goal": np.ones((5, 3))}
    >>> flatten_obs(obs, ["observation", "desired_goal"]).shape
    (5, 29)
    >>> default_obs_keys(obs)
    ['desired_goal', 'observation']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def is_dict_obs(obs) -> bool:
    """True for a dict observation, batched or per row (a sequence of dicts)."""
    return isinstance(obs, Mapping) or (isinstance(obs, (list, tuple)) and len(obs) > 0 and isinstance(obs[0], Mapping))


def obs_key_names(obs) -> list[str]:
    """The keys of a dict observation (batched or per row), in their own order."""
    return list(obs if isinstance(obs, Mapping) else obs[0])


def default_obs_keys(obs) -> list[str]:
    """Every key, sorted (the order of Gymnasium's ``spaces.Dict`` and SB3's ``MultiInputPolicy``)."""
    return sorted(obs_key_names(obs))


def check_obs_keys(keys: Sequence[str] | None) -> tuple[str, ...] | None:
    """``keys`` as a tuple; raises ``ValueError`` unless it is None or a non-empty list of names."""
    if keys is None:
        return None
    if isinstance(keys, str) or not keys or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"obs_keys must be a non-empty list of key names, got {keys!r}")
    return tuple(keys)


def flatten_obs(obs, keys: Sequence[str], row: bool = False) -> np.ndarray:
    """``obs`` (see the module docstring) -> float32 ``(B, D)``, or ``(D,)`` with ``row=True``.

    Raises:
        ValueError: a key the observation lacks (the message lists the ones it has).
    """
    if not is_dict_obs(obs):
        return np.asarray(obs, np.float32)
    names = obs_key_names(obs)
    missing = [k for k in keys if k not in names]
    if missing:
        raise ValueError(f"obs_keys {list(keys)}: {missing} are not among the observation's keys {names}")
    if row:
        return np.concatenate([np.asarray(obs[k], np.float32).reshape(-1) for k in keys])
    if not isinstance(obs, Mapping):
        obs = {k: np.stack([np.asarray(r[k]) for r in obs]) for k in keys}
    n = len(np.asarray(obs[keys[0]]))
    return np.concatenate([np.asarray(obs[k], np.float32).reshape(n, -1) for k in keys], axis=1)
