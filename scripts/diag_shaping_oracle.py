"""Diagnostic (not a test): is the shaping benchmark limited by the learned potential or by PPO?

Runs PPO on ``tabletop_<task>_sparse`` twice with the same seed and budget: the sparse
success reward alone, and the same reward plus potential shaping r' = r + k(γΦ(s') - Φ(s))
through robrew's own ``VecRewardModelWrapper`` — but with an *oracle* Φ computed from the
ground-truth positions in the observation instead of a learned progress model:

    reach: Φ = -|grip - block|
    push:  Φ = -0.5 |grip - behind point| - 2 |block - pad|_xy   (behind = where a push starts)

If PPO cannot beat the sparse reward with this Φ at a budget, a learned Φ will not either.
Besides success, it prints ground-truth quantities that move before success does: the final
block-to-pad distance (push) or grip-to-block distance (reach), and the fraction of episodes
ending in each ground-truth stage.

Usage:
    python scripts/diag_shaping_oracle.py [--task push] [--steps 300000] [--scale 10] [--normalize]
        [--progress runs/bench_shaping/progress]   # a third run: the learned progress model as Φ, same k
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)
import numpy as np
import torch

from robrew.envs.tabletop.task_defs import PUSH_STANDOFF
from robrew.rewards.base import RewardModel

# obs="goal" layout of the tabletop envs (envs/tabletop/env.py): grip 0:3, block 0 at 7:10, pad 0 at 19:21.
GRIP, BLOCK, PAD = slice(0, 3), slice(7, 10), slice(19, 21)


class OraclePotential(RewardModel):
    """Ground-truth distance potential read from tabletop ``goal`` observations (diagnostics only)."""

    name = "oracle_potential"
    needs_frames = False
    needs_obs = True

    def __init__(self, task: str):
        super().__init__()
        self.task = task

    def forward(self, frames=None, obs: torch.Tensor | None = None, instructions=None) -> torch.Tensor:
        grip, block, pad = obs[:, GRIP], obs[:, BLOCK], obs[:, PAD]
        if self.task == "reach":
            return -(grip - block).norm(dim=1)
        direction = pad - block[:, :2]
        direction = direction / (direction.norm(dim=1, keepdim=True) + 1e-9)
        behind = torch.cat([block[:, :2] - PUSH_STANDOFF * direction, block[:, 2:]], dim=1)
        return -0.5 * (grip - behind).norm(dim=1) - 2.0 * (block[:, :2] - pad).norm(dim=1)


def evaluate(model, task: str, episodes: int, norm) -> dict:
    import gymnasium as gym

    env = gym.make(f"robrew.envs:robrew/Tabletop{task.title()}-v0", reward="sparse")
    success, dist, stages = [], [], []
    for ep in range(episodes):
        obs, info = env.reset(seed=10_000 + ep)
        done = False
        while not done:
            a, _ = model.predict(norm.normalize_obs(obs) if norm is not None else obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(a)
            done = terminated or truncated
        s = env.unwrapped.scene_state()
        success.append(info["is_success"])
        stages.append(info["stage"])
        dist.append(np.linalg.norm(s.block[:2] - s.pads[0]) if task == "push" else np.linalg.norm(s.grip - s.block))
    env.close()
    return {"success": float(np.mean(success)), "final_distance": float(np.mean(dist)),
            "stage_fractions": np.bincount(stages, minlength=3 if task == "push" else 2).tolist()}  # fmt: skip


def run(name: str, args: argparse.Namespace, queue) -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from robrew.wrappers import RewardComposition, VecRewardModelWrapper

    torch.set_num_threads(1)
    venv = make_vec_env(f"robrew.envs:robrew/Tabletop{args.task.title()}-v0", n_envs=4, seed=args.seed, env_kwargs={"reward": "sparse"})
    if name != "sparse":
        from robrew.rewards import load_reward_model

        phi = OraclePotential(args.task) if name == "oracle" else load_reward_model(args.progress)
        venv = VecRewardModelWrapper(venv, phi, RewardComposition("potential", 1.0, args.scale, gamma=args.gamma))
    norm = None
    if args.normalize:
        venv = norm = VecNormalize(venv, norm_reward=False, gamma=args.gamma)
    lr = 3e-4 if args.normalize else 1e-3
    model = PPO("MlpPolicy", venv, n_steps=512, batch_size=256, learning_rate=lr, gamma=args.gamma, seed=args.seed, verbose=0)
    start = time.perf_counter()
    try:
        train_and_evaluate(name, model, norm, args, queue, start)
    finally:
        queue.put(None)  # also when it failed: main() must not wait forever


def train_and_evaluate(name, model, norm, args, queue, start) -> None:
    for _ in range(args.evals):
        model.learn(args.steps // args.evals, reset_num_timesteps=False)
        if norm is not None:
            norm.training = False
        result = evaluate(model, args.task, args.episodes, norm)
        if norm is not None:
            norm.training = True
        queue.put({"run": name, "step": model.num_timesteps, **result, "s": round(time.perf_counter() - start)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="push", choices=("push", "reach"))
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--evals", type=int, default=10)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--scale", type=float, default=10.0, help="potential scale k")
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--normalize", action="store_true", help="VecNormalize observations (and lr 3e-4 instead of 1e-3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", help="also run with this saved progress model as Φ (e.g. runs/bench_shaping/progress)")
    args = parser.parse_args()
    queue = mp.get_context("spawn").Queue()
    procs = [mp.get_context("spawn").Process(target=run, args=(name, args, queue)) for name in ("sparse", "oracle", "learned")[: 3 if args.progress else 2]]
    for p in procs:
        p.start()
    finished = 0
    while finished < len(procs):
        item = queue.get()
        if item is None:
            finished += 1
        else:
            print(json.dumps(item), flush=True)
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        raise SystemExit("a run failed (traceback above)")


if __name__ == "__main__":
    main()
