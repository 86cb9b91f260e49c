"""Benchmark (needs ``pip install "robrew[metaworld]"``): more BC / RA-BC training seeds on one
``metaworld_rabc.py`` run's demos and progress model, evaluated on the same goals.

One policy's success over 50 episodes moves by 10-25 points with its training seed alone
(docs/results.md), so a BC-vs-RA-BC gap is read from several training seeds per dataset.

    python scripts/metaworld_rabc.py --seed 0 --eval-episodes 50 --out runs/metaworld
    python scripts/metaworld_policy_seeds.py --run runs/metaworld --seed 0 --policy-seeds 1 2
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import robrew  # noqa: F401  (first: safe render order, MUJOCO_GL)


def main(argv: list[str] | None = None) -> list[dict]:
    """Trains BC and RA-BC once per policy seed; returns one row per (policy seed, method):
    ``{"seed", "policy_seed", "method", "success"}`` (success: the fraction of episodes)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/metaworld"), help="metaworld_rabc.py's --out")
    parser.add_argument("--seed", type=int, default=0, help="metaworld_rabc.py's --seed")
    parser.add_argument("--policy-seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--bc-steps", type=int, default=4000)
    args = parser.parse_args(argv)

    from robrew.data.demos import load_demos
    from robrew.env_factory import make_env
    from robrew.jobs.rabc import RabcExperimentConfig
    from robrew.metrics.rollouts import run_episodes, success_rate
    from robrew.rewards import load_reward_model
    from robrew.taskspec import load_task
    from robrew.training.bc import train_bc

    spec = load_task(args.run / f"metaworld_pick_place_seed{args.seed}.yaml")
    results = json.loads((args.run / f"seed{args.seed}" / "results.json").read_text())
    demos = load_demos(results["dataset"]["path"])
    progress = load_reward_model(args.run / f"seed{args.seed}" / "progress_model")
    bc = replace(RabcExperimentConfig().bc, steps=args.bc_steps)  # the main job's BC settings
    rows = []
    for policy_seed in args.policy_seeds:
        for method in ("none", "rabc"):
            cfg = replace(bc, weighting=method, seed=policy_seed)
            policy, _ = train_bc(demos, cfg, progress_model=progress if method == "rabc" else None)
            episodes = run_episodes(
                lambda render: make_env(spec, render_mode="rgb_array" if render else None),
                policy.actor(cfg.ensemble_decay),
                args.eval_episodes,
                10_000 + args.seed,  # the goals metaworld_rabc.py evaluated on
            )
            sr = success_rate([e.success for e in episodes])
            rows.append({"seed": args.seed, "policy_seed": policy_seed, "method": method, "success": sr["mean"]})
            print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    main()
