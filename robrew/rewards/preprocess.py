"""Image preprocessing for CLIP on batched uint8 tensors, on the model's device.

Matches open_clip's default transform (resize the shortest side with bicubic
antialiasing, centre-crop, normalise) without a PIL round trip per frame, and offers
letterboxing (``pad``) instead of cropping. The aspect ratio is always kept.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

RESIZE_MODES = ("crop", "pad")


def preprocess_frames(
    frames: torch.Tensor,
    size: tuple[int, int],
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    mode: str = "crop",
    fill: float = 0.0,
) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> normalised float (B, 3, h, w) on the same device.

    Args:
        frames: uint8 frames.
        size: Model input (height, width).
        mean: Per-channel mean the model was trained with.
        std: Per-channel std.
        mode: ``"crop"`` (scale the shortest side to fit, centre-crop the rest, as
            open_clip does) or ``"pad"`` (scale the longest side to fit, pad with ``fill``).
        fill: Pad value in [0, 1] pixel units (``pad`` mode).

    Returns:
        float32 tensor ready for ``model.encode_image``.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode must be one of {RESIZE_MODES}, got {mode!r}")
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 (B, H, W, 3), got {tuple(frames.shape)} {frames.dtype}")
    x = frames.permute(0, 3, 1, 2).float().div_(255.0)
    th, tw = size
    h, w = x.shape[-2:]
    if (h, w) != (th, tw):
        pick = max if mode == "crop" else min
        scale = pick(th / h, tw / w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        if (nh, nw) != (h, w):
            x = F.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True, align_corners=False).clamp_(0.0, 1.0)
        if mode == "crop":
            top, left = (nh - th) // 2, (nw - tw) // 2
            x = x[..., top : top + th, left : left + tw]
        else:
            top, left = (th - nh) // 2, (tw - nw) // 2
            x = F.pad(x, (left, tw - nw - left, top, th - nh - top), value=fill)
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return ((x - m) / s).contiguous(memory_format=torch.channels_last)
