"""Reward-scoring throughput and reward-wrapper overhead, measured in one run.

1. CLIP scoring (random weights, the architecture is what costs): frames/s with one
   batched call vs one frame per call, same model, same frames; then the most batching
   could give on this machine: the best fp32 GEMM rate (a large square matmul) over the
   FLOP rate the model already reaches one frame at a time.
2. SB3 VecEnv step rate of tabletop envs that render every step (FrameInInfo), with the
   reward wrapper and a trivial model (frame_mean) vs the same stack without the wrapper:
   the wrapper's own per-step overhead (collecting frames, one model call, composing).

Usage:
    python scripts/bench_reward.py [--model ViT-B-32] [--frames 64] [--batch 32] [--envs 8] [--steps 150]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)


def clip_throughput(model, n_frames: int, batch: int) -> tuple[float, float, float]:
    """Scores random frames with ``model`` (a ClipReward whose batch size is ``batch``).

    Returns (batched frames/s, one-per-call frames/s, the raw model's own batch/1 speed ratio).
    """
    frames = np.random.default_rng(0).integers(0, 256, size=(n_frames, 224, 224, 3), dtype=np.uint8)
    model.score(frames=frames[:batch])  # warm-up
    start = time.perf_counter()
    model.score(frames=frames)
    batched = n_frames / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n_frames):
        model.score(frames=frames[i : i + 1])
    single = n_frames / (time.perf_counter() - start)
    # The ceiling: open_clip's encode_image alone, batch vs 1, on preprocessed tensors.
    x = torch.randn(batch, 3, 224, 224)
    with torch.inference_mode():
        start = time.perf_counter()
        model.clip.encode_image(x)
        raw_batched = batch / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(8):
            model.clip.encode_image(x[i : i + 1])
        raw_single = 8 / (time.perf_counter() - start)
    return batched, single, raw_batched / raw_single


def hardware_bound(model) -> tuple[int, float]:
    """Takes a ClipReward; returns (FLOPs of one frame through its image tower, best fp32 matmul FLOP/s here)."""
    from robrew.rewards.accel import image_flops, matmul_peak

    return image_flops(model), matmul_peak(torch.device("cpu"), torch.float32, 4096, 3)


def vec_step_rate(n_envs: int, steps: int, wrap: bool, render: bool = True) -> float:
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    from robrew.rewards.simple import FrameMeanReward
    from robrew.wrappers import FrameInInfo, VecRewardModelWrapper

    def env_fn():
        env = gym.make("robrew.envs:robrew/TabletopPickPlace-v0", render_mode="rgb_array" if render else None)
        return FrameInInfo(env) if render else env

    venv = DummyVecEnv([env_fn] * n_envs)
    if wrap:
        venv = VecRewardModelWrapper(venv, FrameMeanReward())
    venv.reset()
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(steps + 5, n_envs, 4)).astype(np.float32)
    for a in actions[:5]:
        venv.step(a)
    start = time.perf_counter()
    for a in actions[5:]:
        venv.step(a)
    rate = steps * n_envs / (time.perf_counter() - start)
    venv.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, MUJOCO_GL={os.environ['MUJOCO_GL']}")

    from robrew.rewards.clip import ClipReward

    clip = ClipReward(
        ["a robot gripper holding a red block"], ["a robot gripper"], model=args.model, alpha=0.5, batch_size=args.batch
    )
    batched, single, ceiling = clip_throughput(clip, args.frames, args.batch)
    print(f"\nCLIP {args.model} (random weights, CPU fp32), {args.frames} frames of 224x224:")
    print(f"  batched (batch {args.batch}):   {batched:8.1f} frames/s")
    print(f"  one frame per call:      {single:8.1f} frames/s")
    print(f"  ratio batched / single:  {batched / single:8.2f}x")
    print(f"  (ceiling: open_clip encode_image alone, batch {args.batch} vs 1: {ceiling:.2f}x)")
    flops, peak = hardware_bound(clip)
    print(
        f"  {flops / 1e9:.2f} GFLOP per frame: one per call runs at {single * flops / 1e9:.0f} GFLOP/s, batched at "
        f"{batched * flops / 1e9:.0f} GFLOP/s;"
    )
    print(
        f"  this CPU's best fp32 rate (4096^3 matmul) is {peak / 1e9:.0f} GFLOP/s, so no batching can beat "
        f"{peak / (single * flops):.2f}x here"
    )

    plain = vec_step_rate(args.envs, args.steps, wrap=False)
    wrapped = vec_step_rate(args.envs, args.steps, wrap=True)
    no_render = vec_step_rate(args.envs, args.steps, wrap=False, render=False)
    print(f"\nSB3 DummyVecEnv, {args.envs} tabletop envs rendering 224x224 each step, {args.steps} steps:")
    print(f"  no reward wrapper:                 {plain:8.1f} env-steps/s")
    print(f"  reward wrapper + frame_mean model: {wrapped:8.1f} env-steps/s")
    print(f"  wrapper overhead per step:         {100 * (plain / wrapped - 1):8.1f} %")
    print(f"  (for scale: no rendering at all:   {no_render:8.1f} env-steps/s)")


if __name__ == "__main__":
    main()
