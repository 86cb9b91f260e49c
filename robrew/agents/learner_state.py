"""An SB3 learner's state in files that run no code when read: tensors in safetensors, the rest
in JSON, arrays in npz (loaded with ``allow_pickle=False``). SB3's own ``model.zip`` and
``VecNormalize.save`` are pickles, and a run directory can be handed to anyone.

A checkpoint directory holds::

    learner.safetensors   policy weights, optimiser moments, SAC's entropy coefficient
    learner.json          algorithm, step counters, optimiser settings (param groups), tensor layout
    normalizer.npz/.json  VecNormalize statistics and settings (when the run normalises)
    replay.npz            the replay buffer (off-policy learners)

The learner itself is rebuilt from the run's config (:func:`robrew.runs.build_learner`), then
its state is loaded here, bit for bit.

Example:
    >>> save_learner_state(model, ckpt)
    >>> fresh = build_learner(cfg, spec, venv, tensorboard_log=None)
    >>> load_learner_state(fresh, ckpt)                  # same weights, optimiser, counters
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from robrew.io import atomic_path, write_json_atomic

FORMAT = "robrew-learner-v1"
LEARNER_TENSORS = "learner.safetensors"
LEARNER_JSON = "learner.json"
NORMALIZER_NPZ = "normalizer.npz"
NORMALIZER_JSON = "normalizer.json"
REPLAY_NPZ = "replay.npz"
COUNTERS = ("num_timesteps", "_n_updates", "_episode_num")


class StateFileError(ValueError):
    """A state file is missing, truncated or does not fit the learner; the message names it."""


def _flatten_optimizer(name: str, state: dict, tensors: dict) -> dict:
    """Moves an optimiser state dict's tensors into ``tensors``; returns the JSON-able rest."""
    import torch

    layout: dict[str, dict[str, Any]] = {}
    for idx, entries in state["state"].items():
        layout[str(idx)] = {}
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"{name}/state/{idx}/{key}"] = value.detach().cpu().contiguous()
                layout[str(idx)][key] = "tensor"
            else:
                layout[str(idx)][key] = {"value": value}
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in state["param_groups"]]
    return {"state": layout, "param_groups": groups}


def _unflatten_optimizer(name: str, meta: dict, tensors: dict) -> dict:
    state = {}
    for idx, entries in meta["state"].items():
        state[int(idx)] = {
            key: tensors[f"{name}/state/{idx}/{key}"] if spec == "tensor" else spec["value"]
            for key, spec in entries.items()
        }
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_learner_state(model, directory: Path) -> None:
    """Writes ``learner.safetensors`` + ``learner.json`` (+ ``replay.npz``) for an SB3 PPO/SAC model."""
    import torch
    from safetensors.torch import save_file

    directory = Path(directory)
    state_dict_names, variables = model._get_torch_save_params()
    tensors: dict[str, torch.Tensor] = {}
    optimizers: dict[str, dict] = {}
    for name in state_dict_names:
        obj = _get(model, name)
        if isinstance(obj, torch.optim.Optimizer):
            optimizers[name] = _flatten_optimizer(name, obj.state_dict(), tensors)
        else:
            for k, v in obj.state_dict().items():
                tensors[f"{name}/{k}"] = v.detach().cpu().contiguous()
    for name in variables:
        tensors[f"var/{name}"] = _get(model, name).detach().cpu().contiguous()
    meta = {
        "format": FORMAT,
        "algo": type(model).__name__.lower(),
        "counters": {c: int(getattr(model, c, 0)) for c in COUNTERS},
        "modules": [n for n in state_dict_names if n not in optimizers],
        "optimizers": optimizers,
        "variables": list(variables),
    }
    atomic_path(directory / LEARNER_TENSORS, lambda tmp: save_file(tensors, tmp))
    write_json_atomic(directory / LEARNER_JSON, meta)
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        save_replay(buffer, directory / REPLAY_NPZ)


def load_learner_state(model, directory: Path, replay: bool = True) -> None:
    """Loads what :func:`save_learner_state` wrote into a learner built with the same config.

    Raises:
        StateFileError: a file is missing, unreadable, or its tensors do not fit ``model``.
    """
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    meta = _read_json(directory / LEARNER_JSON)
    if meta.get("format") != FORMAT or meta.get("algo") != type(model).__name__.lower():
        raise StateFileError(
            f"{directory / LEARNER_JSON}: a {meta.get('algo')!r} learner in format {meta.get('format')!r}; "
            f"this run needs {type(model).__name__.lower()!r} in {FORMAT!r}"
        )
    try:
        tensors = load_file(str(directory / LEARNER_TENSORS))
    except (SafetensorError, OSError, ValueError) as e:
        raise StateFileError(f"{directory / LEARNER_TENSORS}: unreadable ({e})") from None
    device = model.device
    try:
        for name in meta["modules"]:
            prefix = f"{name}/"
            state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            _get(model, name).load_state_dict(state, strict=True)
        for name, opt_meta in meta["optimizers"].items():
            _get(model, name).load_state_dict(_unflatten_optimizer(name, opt_meta, tensors))
        for name in meta["variables"]:
            with torch.no_grad():
                _get(model, name).copy_(tensors[f"var/{name}"].to(device))
    except (KeyError, RuntimeError, ValueError) as e:
        raise StateFileError(f"{directory / LEARNER_TENSORS}: does not fit this run's learner ({e})") from None
    for c, v in meta["counters"].items():
        setattr(model, c, int(v))
    buffer = getattr(model, "replay_buffer", None)
    if replay and buffer is not None and (directory / REPLAY_NPZ).is_file():
        load_replay(buffer, directory / REPLAY_NPZ)


# ---- replay buffer -------------------------------------------------------------------------

REPLAY_ARRAYS = (
    "observations",
    "next_observations",
    "actions",
    "rewards",
    "dones",
    "timeouts",
    "ep_start",
    "ep_length",
)


def _replay_arrays(buffer) -> dict[str, np.ndarray]:
    """Name -> the buffer's array; Dict observations (DictReplayBuffer, HER) as ``observations/<key>``."""
    out = {}
    for name in REPLAY_ARRAYS:
        value = getattr(buffer, name, None)
        if isinstance(value, dict):
            out.update({f"{name}/{k}": v for k, v in value.items()})
        elif value is not None:
            out[name] = value
    return out


def save_replay(buffer, path: Path) -> None:
    """The filled part of an SB3 replay buffer (plain, Dict or HER) as npz (no pickles)."""
    n = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {k: v[:n] for k, v in _replay_arrays(buffer).items()}
    arrays["pos_full"] = np.array([buffer.pos, int(buffer.full)], dtype=np.int64)
    if hasattr(buffer, "_current_ep_start"):
        arrays["current_ep_start"] = np.asarray(buffer._current_ep_start)
    atomic_path(path, lambda tmp: _savez(tmp, arrays))


def load_replay(buffer, path: Path) -> None:
    """Fills an SB3 replay buffer from :func:`save_replay`'s file (its size must hold the data)."""
    data = _read_npz(path)
    pos, full = (int(v) for v in data["pos_full"])
    for k, target in _replay_arrays(buffer).items():
        if k in data:
            n = len(data[k])
            if n > len(target) or data[k].shape[1:] != target.shape[1:]:
                raise StateFileError(f"{path}: {k} of shape {data[k].shape} does not fit a buffer of {target.shape}")
            target[:n] = data[k]
    if "current_ep_start" in data and hasattr(buffer, "_current_ep_start"):
        buffer._current_ep_start[:] = data["current_ep_start"]
    buffer.pos, buffer.full = pos % buffer.buffer_size, bool(full)


# ---- observation / reward normalisation ----------------------------------------------------


def save_normalizer(vec_normalize, directory: Path) -> None:
    """VecNormalize statistics (npz) and settings (JSON)."""
    arrays = {
        "obs_mean": vec_normalize.obs_rms.mean,
        "obs_var": vec_normalize.obs_rms.var,
        "obs_count": np.array(vec_normalize.obs_rms.count, dtype=np.float64),
        "ret_mean": np.asarray(vec_normalize.ret_rms.mean, dtype=np.float64),
        "ret_var": np.asarray(vec_normalize.ret_rms.var, dtype=np.float64),
        "ret_count": np.array(vec_normalize.ret_rms.count, dtype=np.float64),
    }
    atomic_path(Path(directory) / NORMALIZER_NPZ, lambda tmp: _savez(tmp, arrays))
    settings = {k: getattr(vec_normalize, k) for k in ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma")}
    write_json_atomic(Path(directory) / NORMALIZER_JSON, {**settings, "epsilon": vec_normalize.epsilon})


def load_normalizer_stats(vec_normalize, directory: Path) -> None:
    """Sets a VecNormalize's statistics from :func:`save_normalizer`'s files."""
    data = _read_npz(Path(directory) / NORMALIZER_NPZ)
    if data["obs_mean"].shape != np.shape(vec_normalize.obs_rms.mean):
        raise StateFileError(
            f"{Path(directory) / NORMALIZER_NPZ}: statistics of shape {data['obs_mean'].shape} do not fit "
            f"observations of shape {np.shape(vec_normalize.obs_rms.mean)}"
        )
    vec_normalize.obs_rms.mean, vec_normalize.obs_rms.var = data["obs_mean"], data["obs_var"]
    vec_normalize.obs_rms.count = float(data["obs_count"])
    vec_normalize.ret_rms.mean, vec_normalize.ret_rms.var = data["ret_mean"], data["ret_var"]
    vec_normalize.ret_rms.count = float(data["ret_count"])


class ObsNormalizer:
    """What evaluation needs of a saved VecNormalize: ``normalize_obs`` with frozen statistics."""

    def __init__(self, directory: Path):
        data = _read_npz(Path(directory) / NORMALIZER_NPZ)
        settings = _read_json(Path(directory) / NORMALIZER_JSON)
        self.mean, self.var = data["obs_mean"], data["obs_var"]
        self.clip_obs, self.epsilon = float(settings["clip_obs"]), float(settings["epsilon"])
        self.norm_obs = bool(settings["norm_obs"])

    def normalize_obs(self, obs: np.ndarray) -> np.ndarray:
        if not self.norm_obs:
            return obs
        return np.clip((obs - self.mean) / np.sqrt(self.var + self.epsilon), -self.clip_obs, self.clip_obs).astype(
            np.float32
        )


# ---- helpers -------------------------------------------------------------------------------


def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _savez(tmp: str, arrays: dict[str, np.ndarray]) -> None:
    """np.savez appends '.npz' to a name without it; writing through a file object keeps the temp name."""
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise StateFileError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StateFileError(f"{path}: not valid JSON ({e})") from None


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise StateFileError(f"{path}: missing") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:  # truncated or not an npz
        raise StateFileError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
