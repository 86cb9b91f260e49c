"""Videos with the reward trace drawn over the frames, and PNG plots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from robrew.plotting import figure

TRACE_COLORS = {"env": (80, 200, 255), "model": (255, 170, 40)}  # RGB


def overlay_trace(frames: list[np.ndarray], traces: dict[str, list[float]], min_width: int = 320) -> list[np.ndarray]:
    """Draws each reward trace (up to the current step) in a strip under every frame.

    Args:
        frames: uint8 (H, W, 3) frames, one per step.
        traces: Name -> per-step values (same length as ``frames``); each is scaled to its own range.
        min_width: Frames narrower than this are upscaled first, so the text stays legible.

    Returns:
        New uint8 frames, taller by the strip.
    """
    import cv2

    if not frames:
        return []
    h, w = frames[0].shape[:2]
    scale = max(1, int(np.ceil(min_width / w)))
    W, H, strip = w * scale, h * scale, 70
    scaled = {}
    for name, values in traces.items():
        v = np.asarray(values, dtype=np.float64)
        lo, hi = float(v.min()), float(v.max())
        scaled[name] = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
    n = len(frames)
    xs = np.linspace(4, W - 4, max(n, 2)).astype(int)
    out = []
    for t, frame in enumerate(frames):
        canvas = np.zeros((H + strip, W, 3), dtype=np.uint8)
        canvas[:H] = cv2.resize(frame, (W, H), interpolation=cv2.INTER_NEAREST)
        canvas[H:] = 30
        label = []
        for name, s in scaled.items():
            pts = np.stack([xs[: t + 1], H + strip - 8 - (s[: t + 1] * (strip - 26)).astype(int)], axis=1)
            color = TRACE_COLORS.get(name, (200, 200, 200))
            cv2.polylines(canvas, [pts.reshape(-1, 1, 2)], False, color, 1, cv2.LINE_AA)
            label.append((f"{name} {traces[name][t]:+.3f}", color))
        x = 4
        for text, color in label:
            cv2.putText(canvas, text, (x, H + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)
            x += 8 * len(text)
        cv2.putText(
            canvas, f"t={t + 1}", (W - 50, H + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (220, 220, 220), 1, cv2.LINE_AA
        )
        out.append(canvas)
    return out


def write_mp4(path: Path, frames: list[np.ndarray], fps: int = 20) -> Path:
    """Writes H.264 MP4 (via imageio-ffmpeg) through a temporary file, then renames."""
    import imageio.v2 as imageio

    from robrew.io import atomic_path

    def write(tmp: str) -> None:
        with imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1, quality=7) as w:
            for f in frames:
                w.append_data(f)

    return atomic_path(path, write)


def plot_reward_traces(episodes, path: Path) -> Path:
    """Env (and model) reward over time, one line per episode; success solid, failure dashed."""
    has_model = any(e.model_rewards for e in episodes)
    size = (10 if has_model else 5.5, 3.6)
    with figure(path, 1, 2 if has_model else 1, dpi=110, figsize=size, squeeze=False) as (fig, axes):
        for ax, key, title in zip(axes[0], ("env_rewards", "model_rewards"), ("env reward", "model reward")):
            for i, e in enumerate(episodes):
                ax.plot(
                    getattr(e, key),
                    "-" if e.success else "--",
                    lw=1,
                    label=f"ep {i} ({'success' if e.success else 'fail'})",
                )
            ax.set_xlabel("step")
            ax.set_title(title)
        if len(episodes) <= 10:
            axes[0][0].legend(fontsize=7)
    return path


def plot_model_vs_success(episodes, path: Path) -> Path:
    """Episode model return (and env return) split by ground-truth success."""
    with figure(path, dpi=110, figsize=(5.5, 3.6)) as (fig, ax):
        key = "model_return" if any(e.model_rewards for e in episodes) else "env_return"
        rng = np.random.default_rng(0)
        for x in (0, 1):  # failure, success
            vals = [getattr(e, key) for e in episodes if e.success == bool(x)]
            ax.scatter(x + rng.uniform(-0.08, 0.08, len(vals)), vals, alpha=0.7)
        ax.set_xticks(
            [0, 1],
            [f"failure (n={sum(not e.success for e in episodes)})", f"success (n={sum(e.success for e in episodes)})"],
        )
        ax.set_ylabel(key.replace("_", " "))
        ax.set_title(f"{key.replace('_', ' ')} vs ground-truth success")
    return path


def plot_proxy_vs_success(
    timesteps: Sequence[int], proxy: Sequence[float], success: Sequence[float], path: Path
) -> Path:
    """Both curves over training on one plot (success left axis, proxy right axis)."""
    with figure(path, dpi=90, figsize=(5, 3)) as (fig, ax):
        ax.plot(timesteps, success, "g-o", ms=3, label="ground-truth success")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("env steps")
        ax.set_ylabel("success rate", color="g")
        ax2 = ax.twinx()
        ax2.plot(timesteps, proxy, "b--s", ms=3, label="model reward per episode")
        ax2.set_ylabel("model reward / episode", color="b")
        ax.set_title("proxy reward vs ground truth during training", fontsize=10)
    return path
