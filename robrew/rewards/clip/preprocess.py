"""Image preprocessing for CLIP on batched uint8 tensors, on the model's device, equal to
open_clip's own evaluation transform (``open_clip.image_transform``) without a PIL round
trip per frame.

The three resize modes are open_clip's, under robrew's names:

- ``crop`` (open_clip ``shortest``, its default): scale the shortest side to fit, centre-crop;
- ``pad`` (``longest``): scale the longest side to fit, pad with the fill colour (letterbox);
- ``squash`` (``squash``): resize to the model's size, ignoring the aspect ratio.

Sizes and offsets are computed exactly as torchvision / open_clip do (truncation for a
square crop target, Python rounding elsewhere, the centre crop's round-half-even); the
resize uses the model's interpolation (bicubic or bilinear, antialiased like PIL) and is
quantised to uint8 as PIL's is. Embeddings match open_clip's PIL transform to a cosine of
at least 0.9999 (tests/rewards/test_clip.py).

Example:
    >>> pre = ClipPreprocess.from_open_clip(model.visual.preprocess_cfg)
    >>> pre(torch.zeros((2, 240, 320, 3), dtype=torch.uint8)).shape
    torch.Size([2, 3, 224, 224])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

RESIZE_MODES = ("crop", "pad", "squash")
#: open_clip's names for the same modes.
OPEN_CLIP_MODES = {"shortest": "crop", "longest": "pad", "squash": "squash"}
INTERPOLATIONS = ("bicubic", "bilinear")


def resize_mode_name(mode: str) -> str:
    """robrew's name for a resize mode given in either naming (``"shortest"`` -> ``"crop"``)."""
    mode = OPEN_CLIP_MODES.get(mode, mode)
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode must be one of {RESIZE_MODES} (or {tuple(OPEN_CLIP_MODES)}), got {mode!r}")
    return mode


def resized_size(h: int, w: int, th: int, tw: int, mode: str) -> tuple[int, int]:
    """(height, width) an (h, w) image is resized to before the crop or pad, as open_clip does."""
    if mode == "squash":
        return th, tw
    if mode == "crop" and th == tw:  # torchvision Resize(int): shortest side to th, the other truncated
        return (int(th * h / w), th) if w <= h else (th, int(th * w / h))
    ratio = min(h / th, w / tw) if mode == "crop" else max(h / th, w / tw)  # open_clip ResizeKeepRatio
    return round(h / ratio), round(w / ratio)


@dataclass(frozen=True)
class ClipPreprocess:
    """uint8 (B, H, W, 3) frames -> normalised float32 (B, 3, h, w), channels-last.

    Args:
        size: Model input (height, width).
        mean: Per-channel mean the model was trained with.
        std: Per-channel std.
        mode: ``crop``, ``pad`` or ``squash`` (open_clip's names are accepted too).
        interpolation: ``bicubic`` or ``bilinear``.
        fill: Pad value in [0, 1] pixel units (``pad`` mode).
    """

    size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    mode: str = "crop"
    interpolation: str = "bicubic"
    fill: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "mode", resize_mode_name(self.mode))
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {self.interpolation!r}")

    @classmethod
    def from_open_clip(cls, cfg: dict, mode: str | None = None) -> ClipPreprocess:
        """From an open_clip model's ``visual.preprocess_cfg``; ``mode`` overrides its resize mode."""
        size = cfg["size"]
        size = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        interpolation = cfg.get("interpolation") or "bicubic"
        return cls(
            size=(int(size[0]), int(size[1])),
            mean=tuple(cfg["mean"]),
            std=tuple(cfg["std"]),
            mode=mode or cfg.get("resize_mode") or "shortest",
            interpolation="bilinear" if interpolation == "bilinear" else "bicubic",  # open_clip: 'random' -> bicubic
            fill=float(cfg.get("fill_color", 0) or 0) / 255.0,
        )

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be uint8 (B, H, W, 3), got {tuple(frames.shape)} {frames.dtype}")
        x = frames.permute(0, 3, 1, 2).float().div_(255.0)
        th, tw = self.size
        h, w = x.shape[-2:]
        nh, nw = resized_size(h, w, th, tw, self.mode)
        if (nh, nw) != (h, w):
            # open_clip's ResizeKeepRatio (crop to a non-square size) always resizes bicubic.
            interp = "bicubic" if self.mode == "crop" and th != tw else self.interpolation
            x = F.interpolate(x, size=(nh, nw), mode=interp, antialias=True, align_corners=False)
            x = x.mul_(255.0).round_().clamp_(0.0, 255.0).div_(255.0)  # PIL resizes uint8 images
        if nh < th or nw < tw:  # open_clip CenterCropOrPad: pad to at least the target, centred
            pad_h, pad_w = max(th - nh, 0), max(tw - nw, 0)
            x = F.pad(x, (pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2), value=self.fill)
            nh, nw = x.shape[-2:]
        if (nh, nw) != (th, tw):  # torchvision center_crop: offsets rounded half to even
            top, left = int(round((nh - th) / 2.0)), int(round((nw - tw) / 2.0))
            x = x[..., top : top + th, left : left + tw]
        m = torch.tensor(self.mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        s = torch.tensor(self.std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return ((x - m) / s).contiguous(memory_format=torch.channels_last)


def preprocess_frames(
    frames: torch.Tensor,
    size: tuple[int, int],
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    mode: str = "crop",
    fill: float = 0.0,
    interpolation: str = "bicubic",
) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> normalised float (B, 3, h, w) on the same device (see :class:`ClipPreprocess`)."""
    return ClipPreprocess(tuple(size), tuple(mean), tuple(std), mode, interpolation, fill)(frames)
