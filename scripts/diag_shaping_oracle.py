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
        [--runs sparse oracle learned dense] [--composition potential|delta] [--no-timeout-bootstrap] [--hold-closed]
        [--envs 4] [--n-steps 512] [--width 64] [--log-std-init 0] [--vf-coef 0.5]   # PPO's setting (defaults: SB3's)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time

import gymnasium as gym
import numpy as np
import torch

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)
from robrew.envs.tabletop.wrappers import HoldClosed
from robrew.rewards.base import RewardModel
from robrew.training.diagnostics import NoTimeoutBootstrap, OraclePotential


def evaluate(model, task: str, episodes: int, norm, hold_closed: bool = False, phi: RewardModel | None = None) -> dict:
    """Ground truth over ``episodes`` deterministic episodes; with ``phi``, also its mean over the
    episodes' states (what the policy achieved in the potential's own terms)."""
    env = gym.make(f"robrew.envs:robrew/Tabletop{task.title()}-v0", reward="sparse")
    if hold_closed:
        env = HoldClosed(env)
    success, dist, stages, phi_means = [], [], [], []
    for ep in range(episodes):
        obs, info = env.reset(seed=10_000 + ep)
        done, visited = False, [obs]
        while not done:
            a, _ = model.predict(norm.normalize_obs(obs) if norm is not None else obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(a)
            done = terminated or truncated
            visited.append(obs)
        if phi is not None:
            phi_means.append(
                float(
                    phi.score(
                        obs=np.array(visited, np.float32), instructions=[info["instruction"]] * len(visited)
                    ).mean()
                )
            )
        s = env.unwrapped.scene_state()
        success.append(info["is_success"])
        stages.append(info["stage"])
        dist.append(np.linalg.norm(s.block[:2] - s.pads[0]) if task == "push" else np.linalg.norm(s.grip - s.block))
    env.close()
    return {
        "success": float(np.mean(success)),
        "final_distance": float(np.mean(dist)),
        "stage_fractions": np.bincount(stages, minlength=3 if task == "push" else 2).tolist(),
        **({"phi_mean": round(float(np.mean(phi_means)), 3)} if phi is not None else {}),
    }


def run(name: str, args: argparse.Namespace, queue) -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from robrew.wrappers import RewardComposition, VecRewardModelWrapper

    torch.set_num_threads(1)
    venv = make_vec_env(
        f"robrew.envs:robrew/Tabletop{args.task.title()}-v0",
        n_envs=args.envs,
        seed=args.seed,
        env_kwargs={"reward": "dense" if name == "dense" else "sparse"},
        wrapper_class=HoldClosed if args.hold_closed else None,
    )
    phi = None
    if name in ("oracle", "learned"):
        from robrew.rewards import load_reward_model

        phi = OraclePotential(args.task) if name == "oracle" else load_reward_model(args.progress)
        # Inside the truncation stripper: Φ(s_T) of a time-limited episode is kept either way.
        venv = VecRewardModelWrapper(venv, phi, RewardComposition(args.composition, 1.0, args.scale, gamma=args.gamma))
    if args.no_timeout_bootstrap:
        venv = NoTimeoutBootstrap(venv)
    norm = None
    if args.normalize:
        venv = norm = VecNormalize(venv, norm_reward=False, gamma=args.gamma)
    lr = 3e-4 if args.normalize else 1e-3
    policy_kwargs = {"net_arch": [args.width] * 2, "log_std_init": args.log_std_init}
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=args.n_steps,
        batch_size=256,
        learning_rate=lr,
        gamma=args.gamma,
        vf_coef=args.vf_coef,
        policy_kwargs=policy_kwargs,
        seed=args.seed,
        verbose=0,
    )
    start = time.perf_counter()
    try:
        train_and_evaluate(name, model, norm, args, queue, start, phi)
    finally:
        queue.put(None)  # also when it failed: main() must not wait forever


def train_and_evaluate(name, model, norm, args, queue, start, phi=None) -> None:
    for _ in range(args.evals):
        model.learn(args.steps // args.evals, reset_num_timesteps=False)
        if norm is not None:
            norm.training = False
        result = evaluate(model, args.task, args.episodes, norm, args.hold_closed, phi)
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
    parser.add_argument(
        "--normalize", action="store_true", help="VecNormalize observations (and lr 3e-4 instead of 1e-3)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--progress", help="also run with this saved progress model as Φ (e.g. runs/bench_shaping/progress)"
    )
    parser.add_argument(
        "--runs",
        nargs="+",
        choices=("sparse", "oracle", "learned", "dense"),
        help="which runs, in parallel, a process each (default: sparse, oracle, and learned with --progress; "
        "dense: the env's hand-written reward)",
    )
    parser.add_argument(
        "--hold-closed", action="store_true", help="fingers always closed (the policy's grip command is ignored)"
    )
    parser.add_argument(
        "--composition",
        default="potential",
        choices=("potential", "delta"),
        help="potential: r + k(γΦ(s') - Φ(s)), policy-invariant; "
        "delta: r + k(Φ(s') - Φ(s)), which also pays k(1-γ)Φ(s') per step",
    )
    parser.add_argument(
        "--no-timeout-bootstrap",
        action="store_true",
        help="treat the time limit as the end of the task (no bootstrap), so shaping adds γ^T·kΦ(s_T) to the return",
    )
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--n-steps", type=int, default=512, help="PPO rollout length per env")
    parser.add_argument("--width", type=int, default=64, help="hidden units of the 2-layer policy and value nets")
    parser.add_argument("--log-std-init", type=float, default=0.0, help="initial log std of the Gaussian policy")
    parser.add_argument(
        "--vf-coef",
        type=float,
        default=0.5,
        help="0 freezes the critic at its initialisation (≈ 0), so shaping's advantages are never cancelled by V ≈ -Φ",
    )
    args = parser.parse_args()
    if args.runs is None:
        args.runs = ["sparse", "oracle"] + (["learned"] if args.progress else [])
    if "learned" in args.runs and not args.progress:
        parser.error("--runs learned needs --progress (a saved progress model directory)")
    queue = mp.get_context("spawn").Queue()
    procs = [mp.get_context("spawn").Process(target=run, args=(name, args, queue)) for name in args.runs]
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
