"""GPU benchmark: CLIP scoring against the device's own matmul peak, rendering,
and SB3 env-steps/s with and without a CLIP reward. Everything is measured in one run.

Printed:
  1. bf16 matmul peak (TFLOP/s), measured here with large square matmuls;
  2. per model (random weights: speed only): image-tower FLOPs per frame (counted by
     torch's FlopCounterMode), frames/s at the best batch size (uint8 frames on the device,
     preprocessing included), the FLOP rate this implies, and that as a fraction of the peak;
  3. render frames/s of one process, and of 16 SubprocVecEnv workers (EGL, spread over the GPUs);
  4. SB3 PPO env-steps/s for 16 humanoid envs without a reward model, and with the ViT-B-32
     CLIP reward (frames rendered in the workers at the model's input size), and their ratio.

Targets: ViT-B-32 >= 30% of its peak-implied limit, ViT-bigG-14 >= 50%, 16-env steps/s with
the ViT-B-32 reward >= 0.5x without.

Usage:
    python scripts/bench_gpu.py                      # on a GPU machine
    python scripts/bench_gpu.py --quick              # CPU smoke run: ViT-B-32, tiny budgets
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL=egl before mujoco loads)
from robrew.rewards.accel import image_flops, matmul_peak, synchronize


def scoring_rate(model, batch: int, seconds: float) -> float:
    """Frames/s of ``model.forward`` on uint8 frames already on the device."""
    import torch

    frames = torch.randint(0, 256, (batch, 256, 256, 3), dtype=torch.uint8, device=model.device)
    with torch.no_grad():
        for _ in range(2):
            model(frames)
        synchronize(model.device)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            model(frames)
            n += 1
        synchronize(model.device)
    return n * batch / (time.perf_counter() - t0)


def bench_models(names, device, peak, args) -> None:
    import torch

    from robrew.rewards.clip import ClipReward

    print(f"\n{'model':<14}{'GFLOP/frame':>12}{'best batch':>11}{'frames/s':>10}{'TFLOP/s':>9}{'of peak':>9}")
    for name in names:
        model = ClipReward(
            ["a humanoid robot kneeling"],
            ["a humanoid robot"],
            model=name,
            pretrained=None,
            alpha=0.5,
            device=str(device),
            precision="bf16" if device.type == "cuda" else "fp32",
            compile=args.compile,
        )
        flops = image_flops(model)
        best_rate, best_batch = 0.0, 0
        for b in args.batches:
            try:
                rate = scoring_rate(model, b, args.seconds)
            except torch.OutOfMemoryError:
                torch.cuda.empty_cache()
                break
            if rate > best_rate:
                best_rate, best_batch = rate, b
        achieved = best_rate * flops
        print(
            f"{name:<14}{flops / 1e9:>12.2f}{best_batch:>11}{best_rate:>10.0f}"
            f"{achieved / 1e12:>9.1f}{achieved / peak:>9.0%}"
        )
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()


def render_rates(n_envs: int, steps: int, devices: list[int] | None) -> tuple[float, float]:
    """(frames/s in this process, frames/s summed over ``n_envs`` subprocess workers)."""
    from robrew.env_factory import make_env
    from robrew.rewards.simple import FrameMeanReward
    from robrew.wrappers.sb3 import make_scored_vec_env

    env = make_env("humanoid_kneeling", render_mode="rgb_array")
    env.reset(seed=0)
    env.render()
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(env.action_space.sample())
        env.render()
    single = steps / (time.perf_counter() - t0)
    env.close()
    venv = make_scored_vec_env(
        _humanoid_rgb, n_envs, FrameMeanReward(), subprocess=True, seed=0, render_devices=devices
    )
    venv.reset()
    actions = np.zeros((n_envs, *venv.action_space.shape), np.float32)
    venv.step(actions)
    t0 = time.perf_counter()
    for _ in range(steps):
        venv.step(actions)
    many = n_envs * steps / (time.perf_counter() - t0)
    venv.close()
    return single, many


def _humanoid_rgb():
    from robrew.env_factory import make_env

    return make_env("humanoid_kneeling", render_mode="rgb_array")


def _humanoid_state():
    from robrew.env_factory import make_env

    return make_env("humanoid_kneeling")


def sb3_rates(n_envs: int, steps: int, device, devices: list[int] | None) -> tuple[float, float]:
    """PPO env-steps/s for ``n_envs`` humanoid envs: (no reward model, ViT-B-32 CLIP reward)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from robrew.rewards.clip import ClipReward
    from robrew.wrappers.sb3 import make_scored_vec_env

    def run(venv) -> float:
        model = PPO("MlpPolicy", venv, n_steps=64, batch_size=256, n_epochs=1, device="cpu", verbose=0, seed=0)
        model.learn(n_envs * 64)  # warm-up: process start, first GL contexts
        t0 = time.perf_counter()
        model.learn(steps, reset_num_timesteps=False)
        rate = steps / (time.perf_counter() - t0)
        venv.close()
        return rate

    plain = run(make_vec_env(_humanoid_state, n_envs=n_envs, seed=0, vec_env_cls=SubprocVecEnv))
    clip = ClipReward(
        ["a humanoid robot kneeling"],
        ["a humanoid robot"],
        model="ViT-B-32",
        pretrained=None,
        alpha=0.5,
        device=str(device),
        batch_size=n_envs,
    )
    scored = run(make_scored_vec_env(_humanoid_rgb, n_envs, clip, subprocess=True, seed=0, render_devices=devices))
    return plain, scored


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: ViT-B-32 only, tiny budgets")
    parser.add_argument("--compile", action="store_true", help="torch.compile the image tower")
    parser.add_argument("--envs", type=int, default=16)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gpus = list(range(torch.cuda.device_count())) if device.type == "cuda" else None
    quick = args.quick or device.type == "cpu"
    args.seconds = 0.5 if quick else 3.0
    args.batches = [8, 32] if quick else [32, 64, 128, 256, 512, 1024, 2048]
    names = ["ViT-B-32"] if quick else ["ViT-B-32", "ViT-L-14", "ViT-bigG-14"]
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"device: {where} ({len(gpus or [])} GPU(s)); torch {torch.__version__}; "
        f"{'quick CPU run' if quick else 'full run'}"
    )
    peak = matmul_peak(device, dtype, 1024 if quick else 8192, 3 if quick else 10)
    print(f"matmul peak ({str(dtype).split('.')[-1]}): {peak / 1e12:.1f} TFLOP/s")
    bench_models(names, device, peak, args)
    n_envs = 2 if quick else args.envs
    single, many = render_rates(n_envs, 10 if quick else 200, gpus)
    print(
        f"\nrender (humanoid, 224x224): {single:.0f} frames/s in one process; {many:.0f} frames/s over {n_envs} workers"
    )
    plain, scored = sb3_rates(n_envs, n_envs * (64 if quick else 512), device, gpus)
    print(
        f"SB3 PPO, {n_envs} humanoid envs: {plain:.0f} steps/s without a reward model, {scored:.0f} with ViT-B-32 "
        f"CLIP reward ({scored / plain:.2f}x; target >= 0.5x)"
    )


if __name__ == "__main__":
    main()
