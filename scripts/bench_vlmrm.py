"""Benchmark (not a test): what the VLM-RM humanoid experiment needs, measured on the code path it
runs, i.e. ``robrew-train task=humanoid_kneeling reward=clip algo=sac reward.kwargs.model=ViT-bigG-14``.

Builds that run's config (random weights unless ``--pretrained``: the architecture is what costs)
and prints, all measured in this process:
  1. the CLIP model: parameters and their bytes on the reward device;
  2. reward scoring alone: frames/s on real rendered humanoid frames, one call per vector step
     (batch = ``--n-envs``, as the reward wrapper calls it);
  3. the whole run for ``--steps`` env steps (rendering, CLIP, SAC updates from the first step):
     env steps/s end to end, and the wall time 10M steps (VLM-RM's budget) would take at that rate;
  4. memory: peak host RSS, peak GPU memory (CUDA), and the SAC replay buffer once full.

Usage:
    python scripts/bench_vlmrm.py                                  # ViT-bigG-14 on this machine (CPU: slow)
    python scripts/bench_vlmrm.py --device cuda --steps 2000 --n-envs 8
    python scripts/bench_vlmrm.py --model ViT-B-32 --steps 64      # a quick CPU look
"""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

import robrew  # noqa: F401  (first: safe render order, MUJOCO_GL)


def run_config(args):
    """The experiment's TrainConfig at this benchmark's budget."""
    from robrew.agents.sac import SacConfig, SacParams
    from robrew.rewards.factory import RewardConfig
    from robrew.runs import TaskConfig, TrainConfig

    return TrainConfig(
        task=TaskConfig(args.task),
        reward=RewardConfig(
            name="clip",
            kwargs={"model": args.model, "pretrained": args.pretrained, "batch_size": "auto"},
            device=args.device,
        ),
        algo=SacConfig(params=SacParams(learning_starts=0, buffer_size=args.buffer_size)),
        n_envs=args.n_envs,
        total_timesteps=args.steps,
        checkpoint_every=10**9,
        eval_every=10**9,
        eval_episodes=0,
        progress_bar=False,
        device=args.policy_device,
    )


def scoring_rate(cfg, calls: int) -> tuple[int, int, float]:
    """(parameters, parameter bytes, frames/s) of the run's reward model on rendered frames."""
    from robrew.env_factory import make_env
    from robrew.rewards.accel import synchronize
    from robrew.rewards.factory import build_reward_model
    from robrew.runs import resolve_task

    spec = resolve_task(cfg)
    model = build_reward_model(cfg.reward, spec)
    params = list(model.clip.parameters())
    n_params = sum(p.numel() for p in params)
    n_bytes = sum(p.numel() * p.element_size() for p in params)
    env = make_env(spec, render_mode="rgb_array")
    env.reset(seed=0)
    frames = []
    for _ in range(cfg.n_envs):
        env.step(env.action_space.sample())
        frames.append(env.render())
    env.close()
    batch = np.stack(frames)
    model.score(frames=batch)  # warm-up (kernels, autotuning)
    synchronize(model.device)
    start = time.perf_counter()
    for _ in range(calls):
        model.score(frames=batch)
    synchronize(model.device)
    rate = calls * len(batch) / (time.perf_counter() - start)
    del model
    gc.collect()
    return n_params, n_bytes, rate


def main(argv: list[str] | None = None) -> dict:
    """Prints and returns the four measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="humanoid_kneeling")
    parser.add_argument("--model", default="ViT-bigG-14")
    parser.add_argument("--pretrained", help="a local open_clip checkpoint (default: random weights)")
    parser.add_argument("--device", default="auto", help="reward model device: auto | cpu | cuda[:N]")
    parser.add_argument("--policy-device", default="cpu")
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=64, help="env steps of the measured run")
    parser.add_argument("--calls", type=int, default=3, help="timed scoring calls")
    parser.add_argument("--buffer-size", type=int, default=1_000_000, help="SAC replay buffer (transitions)")
    args = parser.parse_args(argv)
    if args.steps < args.n_envs:
        parser.error(f"--steps must be at least --n-envs ({args.n_envs})")

    import torch

    from robrew.env_factory import make_env
    from robrew.runs import resolve_task
    from robrew.training.train import train

    cfg = run_config(args)
    cuda = torch.cuda.is_available() and args.device != "cpu"
    n_params, n_bytes, frames_per_s = scoring_rate(cfg, args.calls)
    print(f"{args.model} on {args.device} ({'CUDA' if cuda else 'CPU'}, {torch.get_num_threads()} threads)")
    print(f"  1. CLIP: {n_params / 1e9:.2f}B parameters, {n_bytes / 2**30:.1f} GiB")
    print(f"  2. scoring alone: {frames_per_s:.2f} frames/s (batch {args.n_envs}, rendered frames)")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as tmp:
        metrics = train(cfg, Path(tmp) / "run")
    steps_per_s = metrics["env_steps_per_s"]
    print(
        f"  3. the run ({metrics['num_timesteps']} env steps, SAC updates from the first): {steps_per_s:.2f} env "
        f"steps/s end to end -> 10M steps in {1e7 / steps_per_s / 3600:.0f} h"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    gpu = torch.cuda.max_memory_allocated() if cuda else None
    probe = make_env(resolve_task(cfg))
    obs_dim, act_dim = probe.observation_space.shape[0], probe.action_space.shape[0]
    probe.close()
    buffer = args.buffer_size * (2 * obs_dim + act_dim + 3) * 4  # obs, next obs, action, reward, done, timeout
    print(
        f"  4. memory: peak host RSS {rss / 2**30:.1f} GiB"
        + (f", peak GPU {gpu / 2**30:.1f} GiB" if gpu is not None else "")
        + f"; SAC replay buffer of {args.buffer_size:,} transitions: {buffer / 2**30:.1f} GiB when full"
    )
    return {
        "model": args.model,
        "parameters": n_params,
        "parameter_bytes": n_bytes,
        "scoring_frames_per_s": frames_per_s,
        "env_steps_per_s": steps_per_s,
        "peak_rss_bytes": rss,
        "peak_gpu_bytes": gpu,
        "replay_buffer_bytes": buffer,
    }


if __name__ == "__main__":
    main()
