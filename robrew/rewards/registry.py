"""The reward-model registry (one place) and save/load through safetensors + JSON.

Entries are ``"module:Class"`` strings imported on first use, so listing models is
cheap and open_clip loads only when a CLIP model is built.

A saved model is a directory with ``reward_model.json`` (registry name, constructor
config, format version) and, for trainable models, ``model.safetensors``. Loading runs
no code from the files (no pickle).

Example:
    >>> model = make_reward("linear_obs", obs_dim=26)
    >>> save_reward_model(model, "runs/rm")
    >>> load_reward_model("runs/rm").config()["obs_dim"]
    26
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

from robrew.io import atomic_path, file_sha256, write_json_atomic
from robrew.rewards.base import RewardModel, RewardModelError

REWARD_MODELS: dict[str, str] = {
    "clip": "robrew.rewards.clip.model:ClipReward",
    "ensemble": "robrew.rewards.ensemble:EnsembleReward",
    "normalized": "robrew.rewards.ensemble:NormalizedReward",
    "frame_mean": "robrew.rewards.simple:FrameMeanReward",
    "linear_obs": "robrew.rewards.simple:LinearObsReward",
    "progress": "robrew.rewards.progress.model:ProgressReward",
}

FORMAT = "robrew-reward-model/1"
CONFIG_FILE = "reward_model.json"
WEIGHTS_FILE = "model.safetensors"


def list_rewards() -> list[str]:
    """Registered reward-model names."""
    return sorted(REWARD_MODELS)


def reward_class(name: str) -> type[RewardModel]:
    """The class registered under ``name``; unknown names raise ``ValueError`` listing the known ones."""
    if name not in REWARD_MODELS:
        raise ValueError(f"unknown reward model {name!r}; registered: {list_rewards()}")
    module, cls = REWARD_MODELS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_reward(name: str, obs_keys=None, **kwargs) -> RewardModel:
    """Builds the registered reward model ``name`` with constructor ``kwargs``; ``obs_keys``
    selects the keys of Dict observations it reads (see :meth:`RewardModel.set_obs_keys`)."""
    return reward_class(name)(**kwargs).set_obs_keys(obs_keys)


def save_reward_model(model: RewardModel, directory: str | os.PathLike) -> Path:
    """Saves ``model`` into ``directory`` (created); each file is written atomically.

    Returns:
        The directory path.
    """
    from safetensors.torch import save_file

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "name": model.name, "config": model.config()}
    if model.is_trainable:
        state = {k: v.detach().cpu().contiguous() for k, v in model.trainable_state().items()}
        atomic_path(out / WEIGHTS_FILE, lambda p: save_file(state, p))
        meta["weights_sha256"] = file_sha256(out / WEIGHTS_FILE)  # load_reward_model checks it
    write_json_atomic(out / CONFIG_FILE, meta)
    return out


def load_reward_model(directory: str | os.PathLike, device: str = "cpu") -> RewardModel:
    """Loads a model saved by :func:`save_reward_model`.

    Raises:
        RewardModelError: missing or corrupt files, unknown model name, or weights that
            do not fit the model; the message names the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(directory)
    cfg_path = root / CONFIG_FILE
    if not cfg_path.is_file():
        raise RewardModelError(
            f"{cfg_path}: missing; not a saved robrew reward model (save one with save_reward_model)"
        )
    try:
        meta = json.loads(cfg_path.read_text())
        name, config = meta["name"], dict(meta["config"])
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise RewardModelError(f"{cfg_path}: corrupt reward-model config ({e}); re-save the model") from None
    if meta.get("format") != FORMAT:
        raise RewardModelError(f"{cfg_path}: format {meta.get('format')!r} is not {FORMAT!r}")
    try:
        model = make_reward(name, device=device, **config)
    except (ValueError, TypeError) as e:
        raise RewardModelError(f"{cfg_path}: cannot build reward model {name!r}: {e}") from None
    if model.is_trainable:
        weights = root / WEIGHTS_FILE
        if not weights.is_file():
            raise RewardModelError(f"{weights}: missing weights for trainable model {name!r}")
        expected = meta.get("weights_sha256")
        if expected is not None and file_sha256(weights) != expected:
            raise RewardModelError(
                f"{weights}: sha256 differs from the one recorded in {CONFIG_FILE} when it was saved: the file is "
                "damaged or was replaced; re-save or re-train the model"
            )
        try:
            state = load_file(weights, device=str(model.device))
            model.load_trainable_state(state)
        except (SafetensorError, RuntimeError, OSError) as e:
            raise RewardModelError(f"{weights}: corrupt or mismatched weights ({str(e).splitlines()[0]})") from None
    return model.eval()
