"""Renderer throughput: robrew's Renderer vs stock Gymnasium ``env.render()``, same run.

Both render the same Humanoid-v5 state at the same size from the same tracking camera;
stock Gymnasium keeps MuJoCo's defaults (shadows, reflections), robrew turns them off.
Also times a robrew env step + render, the cost a reward wrapper pays per step, and the floor of
the GL backend in the same run: MuJoCo's own ``mjr_render`` + ``mjr_readPixels`` on robrew's scene
with nothing around them (no scene update, flip or copy). No renderer producing these frames on this
backend is faster than that floor, so floor / stock bounds the ratio any renderer can reach here.

Usage:
    python scripts/bench_render.py [--size 224] [--frames 200]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)
import robrew.envs  # noqa: F401
from robrew.envs.humanoid_pose import CAMERA_PRESETS
from robrew.render import Renderer


def fps(fn, frames: int) -> float:
    for _ in range(5):
        fn()
    start = time.perf_counter()
    for _ in range(frames):
        fn()
    return frames / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    size, n = args.size, args.frames

    stock = gym.make("Humanoid-v5", render_mode="rgb_array", width=size, height=size)
    stock.reset(seed=0)
    u = stock.unwrapped
    ours = Renderer(u.model, size, size, CAMERA_PRESETS["stock"])
    assert ours.render(u.data).shape == stock.render().shape

    import mujoco  # after robrew: it sets MUJOCO_GL

    inner, pixels = ours._renderer, np.empty((size, size, 3), np.uint8)  # mujoco.Renderer's own scene and context

    def gl_only():
        mujoco.mjr_render(inner._rect, inner._scene, inner._mjr_context)
        mujoco.mjr_readPixels(pixels, None, inner._rect, inner._mjr_context)

    # Best of three rounds, robrew's renderer and the floor interleaved (this machine is noisy).
    stock_fps, ours_fps, floor_fps = 0.0, 0.0, 0.0
    for _ in range(3):
        stock_fps = max(stock_fps, fps(stock.render, n))
        ours_fps = max(ours_fps, fps(lambda: ours.render(u.data), n))  # leaves its scene and context current
        floor_fps = max(floor_fps, fps(gl_only, n))
    env = gym.make("robrew/HumanoidPose-v0", render_mode="rgb_array", width=size, height=size)
    env.reset(seed=0)
    zero = np.zeros(env.action_space.shape)
    step_fps = fps(lambda: (env.step(zero), env.render()), n)

    print(f"Humanoid-v5 {size}x{size}, best of 3 x {n} frames (MUJOCO_GL={__import__('os').environ['MUJOCO_GL']})")
    print(f"stock gymnasium env.render():   {stock_fps:8.1f} frames/s")
    print(f"robrew Renderer:                {ours_fps:8.1f} frames/s")
    print(f"ratio robrew / stock:           {ours_fps / stock_fps:8.2f}x")
    print(f"robrew env step + render:       {step_fps:8.1f} steps/s")
    print(f"GL floor, mjr_render + readPixels alone: {floor_fps:8.1f} frames/s (robrew at {ours_fps / floor_fps:.0%})")
    print(f"bound on any renderer / stock here:       {floor_fps / stock_fps:8.2f}x")


if __name__ == "__main__":
    main()
