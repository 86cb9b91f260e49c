"""The reward-model interface: a pure batched module, frames and/or observations (plus
instructions) in, float32[B] out. It knows nothing about environments.

Subclasses implement :meth:`RewardModel.forward` on one batch of tensors already on
the model's device; :meth:`RewardModel.score` takes numpy or torch input of any batch
size, splits it into ``batch_size`` chunks, and checks the output.

Example:
    >>> model = make_reward("frame_mean")
    >>> model.score(frames=np.zeros((4, 64, 64, 3), np.uint8))
    array([0., 0., 0., 0.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from robrew.observations import check_obs_keys, flatten_obs, is_dict_obs, obs_key_names


class RewardModelError(RuntimeError):
    """A reward model cannot be built, loaded or evaluated; the message says how to fix it."""


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; anything else is passed to torch."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype for ``precision`` on ``device``; ``None`` means plain fp32.

    ``"auto"`` is bf16 on CUDA (fp16 where bf16 is unsupported) and fp32 on CPU.
    """
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    table = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in table:
        raise ValueError(f"precision must be one of {['auto', *table]}, got {precision!r}")
    return table[precision]


class RewardModel(nn.Module):
    """Base class of every reward model.

    Class attributes a subclass sets:
        name: Registry name.
        needs_frames: Whether :meth:`forward` reads frames (uint8 B×H×W×3).
        needs_obs: Whether it reads observations (float B×D).
        is_trainable: Whether it has learned weights to save (safetensors).

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.
        batch_size: Largest batch passed to :meth:`forward` at once, or ``"auto"``: on a GPU
            the largest that fits (found at the first :meth:`score` call by
            :func:`robrew.rewards.accel.find_batch_size`), on CPU 64.
    """

    name: ClassVar[str] = ""
    needs_frames: ClassVar[bool] = True
    needs_obs: ClassVar[bool] = False
    is_trainable: ClassVar[bool] = False

    def __init__(self, device: str | torch.device = "cpu", batch_size: int | str = 64):
        super().__init__()
        self.device = resolve_device(device)
        self._auto_batch = batch_size == "auto" and self.device.type == "cuda"
        if batch_size == "auto":
            batch_size = 64
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer or 'auto', got {batch_size!r}")
        self.batch_size = int(batch_size)

    #: Attributes a copy on another device must not share (e.g. a compiled graph, built per device).
    per_device_attrs: ClassVar[tuple[str, ...]] = ()

    def clear_caches(self) -> None:
        """Drops cached tensors (e.g. instruction embeddings) that live on the old device;
        subclasses with caches override it. Called on the copy by :meth:`copy_to`."""

    def copy_to(self, device: str | torch.device) -> RewardModel:
        """An independent copy of this model on ``device`` (replicas over GPUs use it).

        Example:
            >>> replica = model.copy_to("cuda:1")
        """
        import copy

        held = {a: getattr(self, a) for a in self.per_device_attrs if getattr(self, a, None) is not None}
        for a in held:
            setattr(self, a, None)
        try:
            clone = copy.deepcopy(self).to(device)
        finally:
            for a, v in held.items():
                setattr(self, a, v)
        clone.device = torch.device(device)
        clone.clear_caches()
        return clone

    #: For Dict observations: which keys, concatenated in this order, make the model's input.
    obs_keys: tuple[str, ...] | None = None

    def set_obs_keys(self, keys: Sequence[str] | None) -> RewardModel:
        """Reads Dict observations (e.g. ``observation`` / ``achieved_goal`` / ``desired_goal``) as
        the concatenation of ``keys``, in that order; saved with the model. Returns ``self``.

        Example:
            >>> model = make_reward("linear_obs", obs_dim=13, obs_keys=["observation", "desired_goal"])
        """
        self.obs_keys = check_obs_keys(keys)
        return self

    def flatten_obs(self, obs):
        """Dict observations -> (B, D) arrays through :attr:`obs_keys`; anything else as it is.

        Takes a batched dict (``{key: (B, ...)}``, as SB3 and Gymnasium vector envs give) or a
        sequence of per-row dicts (single envs, terminal observations).

        Raises:
            ValueError: a Dict observation and no ``obs_keys``, or a key the observation lacks.
        """
        if not is_dict_obs(obs):
            return obs
        if self.obs_keys is None:
            raise ValueError(
                f"reward model {self.name!r} reads observations as one vector, but these are a Dict with keys "
                f"{obs_key_names(obs)}: choose which to use with obs_keys=[...] (concatenated in that order)"
            )
        try:
            return flatten_obs(obs, self.obs_keys)
        except ValueError as e:
            raise ValueError(f"reward model {self.name!r} reads {e}") from None

    def config(self) -> dict:
        """JSON-serialisable constructor arguments (used by :func:`save_reward_model`)."""
        return {"batch_size": self.batch_size, **({"obs_keys": list(self.obs_keys)} if self.obs_keys else {})}

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The tensors :func:`save_reward_model` writes (frozen pretrained parts that the
        config rebuilds, e.g. a CLIP tower, may be left out)."""
        return self.state_dict()

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        """Inverse of :meth:`trainable_state`; raises ``RuntimeError`` on a mismatch."""
        self.load_state_dict(state, strict=True)

    def forward(
        self, frames: torch.Tensor | None, obs: torch.Tensor | None, instructions: Sequence[str] | None
    ) -> torch.Tensor:
        """Scores one batch already on ``self.device``; returns float32 of shape [B]."""
        raise NotImplementedError

    @torch.no_grad()
    def score(
        self,
        frames: np.ndarray | torch.Tensor | None = None,
        obs: np.ndarray | torch.Tensor | None = None,
        instructions: str | Sequence[str] | None = None,
    ) -> np.ndarray:
        """Scores a batch of any size.

        Args:
            frames: uint8 (B, H, W, 3), numpy or torch (any device).
            obs: (B, D) observations.
            instructions: One string for the whole batch, one per row, or ``None``.

        Returns:
            float32 numpy array of shape (B,).

        Raises:
            ValueError: a required input is missing or batch sizes disagree.
            RewardModelError: the model produced NaN or inf.
        """
        if self.needs_frames and frames is None:
            raise ValueError(f"reward model {self.name!r} needs frames (uint8 B×H×W×3)")
        if self.needs_obs and obs is None:
            raise ValueError(f"reward model {self.name!r} needs observations")
        window = int(getattr(self, "window", 1))
        if self.needs_obs and obs is not None:
            obs = self.flatten_obs(obs)
        if self.needs_frames:
            frames = self._checked_frames(frames, window)
        if self.needs_obs:
            self._check_obs(obs, window)
        sizes = {len(x) for x in (frames, obs) if x is not None}
        if len(sizes) != 1:
            raise ValueError(f"frames and obs must be given with one batch size, got sizes {sorted(sizes)}")
        n = sizes.pop()
        if isinstance(instructions, str):
            instructions = [instructions] * n
        if instructions is not None and len(instructions) != n:
            raise ValueError(f"got {len(instructions)} instructions for a batch of {n}")
        if self._auto_batch and n > 0:
            from robrew.rewards.batching import find_batch_size

            self._auto_batch = False
            self.batch_size = find_batch_size(
                self,
                frame_shape=tuple(frames.shape[1:]) if frames is not None else None,
                obs_dim=obs.shape[1] if obs is not None else None,
            )
        out = np.empty(n, dtype=np.float32)
        for start in range(0, n, self.batch_size):
            sl = slice(start, start + self.batch_size)
            f = self._to_device(frames[sl], dtype=torch.uint8) if self.needs_frames else None
            o = self._to_device(obs[sl], dtype=torch.float32) if self.needs_obs else None
            ins = list(instructions[sl]) if instructions is not None else None
            r = self.forward(f, o, ins)
            out[sl] = r.detach().float().cpu().numpy()
        if not np.all(np.isfinite(out)):
            raise RewardModelError(
                f"reward model {self.name!r} returned non-finite rewards ({int((~np.isfinite(out)).sum())} of {n}); "
                "check its inputs (NaN observations?) and, for learned models, the checkpoint"
            )
        return out

    def _checked_frames(self, frames, window: int):
        """Frames as uint8, or a ValueError saying what is wrong (never a silent cast)."""
        shape = "(B, H, W, 3)" if window == 1 else f"(B, {window}, H, W, 3) windows"
        ndim = 4 if window == 1 else 5
        if frames.ndim != ndim or frames.shape[-1] != 3 or (window > 1 and frames.shape[1] != window):
            raise ValueError(f"reward model {self.name!r} takes frames of shape {shape}, got {tuple(frames.shape)}")
        dtype = str(frames.dtype).replace("torch.", "")
        if dtype == "uint8":
            return frames
        if "int" not in dtype:
            raise ValueError(
                f"reward model {self.name!r} takes uint8 frames (0..255), got {dtype}; "
                "convert them first, e.g. (x * 255).round().astype(np.uint8) for [0, 1] floats"
            )
        low, high = int(frames.min()), int(frames.max())
        if low < 0 or high > 255:
            raise ValueError(
                f"reward model {self.name!r} takes frames in 0..255, got {dtype} values in [{low}, {high}]"
            )
        return frames.astype(np.uint8) if isinstance(frames, np.ndarray) else frames.to(torch.uint8)

    def _check_obs(self, obs, window: int) -> None:
        ndim = 2 if window == 1 else 3
        if obs.ndim != ndim:
            shape = "(B, D)" if window == 1 else f"(B, {window}, D) windows"
            raise ValueError(f"reward model {self.name!r} takes observations of shape {shape}, got {tuple(obs.shape)}")
        width = getattr(self, "obs_dim", None)
        if width is not None and obs.shape[-1] != int(width):
            raise ValueError(
                f"reward model {self.name!r} reads observations of width {int(width)}, got width {obs.shape[-1]}: "
                "it was trained on another env or observation layout; use a model trained on this env's observations"
            )
        finite = np.isfinite(np.asarray(obs.detach().cpu() if torch.is_tensor(obs) else obs, dtype=np.float64))
        if not finite.all():
            rows = np.flatnonzero(~finite.reshape(len(finite), -1).all(axis=1))
            raise ValueError(
                f"reward model {self.name!r} got NaN or inf observations (rows {rows[:5].tolist()}); "
                "a reward of a broken state would be silently wrong"
            )

    def score_episode(self, frames=None, obs=None, instructions=None) -> np.ndarray:
        """Scores one episode's frames in time order. Same as :meth:`score` for models that
        look at one frame at a time; models with a frame window build their windows here."""
        return self.score(frames=frames, obs=obs, instructions=instructions)

    def _to_device(self, x: np.ndarray | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(np.ascontiguousarray(x))
        if self.device.type == "cuda" and x.device.type == "cpu":
            x = x.pin_memory().to(self.device, non_blocking=True)  # uint8 crosses the bus once
        return x.to(self.device, dtype=dtype)
