"""Example (needs ``pip install "robrew[metaworld]"``): robrew's main job on Meta-World pick-place-v3.

Meta-World's scripted expert records mixed-quality demos (a third clean, a third noisy, a third
carrying the object somewhere else); robrew trains the progress model on them from episode-level
success flags only, then BC and RA-BC, and evaluates both by Meta-World's own ``info["success"]``.
The glue a user writes is the task file and the three policies below.

    python scripts/metaworld_rabc.py [--episodes 60] [--eval-episodes 30] [--seed 0] [--out runs/metaworld]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import robrew  # noqa: F401  (first: safe render order, MUJOCO_GL)

TASK = """\
name: metaworld_pick_place
env_id: metaworld:Meta-World/MT1
env_kwargs: {env_name: pick-place-v3, camera_name: corner, width: 64, height: 64, seed: EVAL_SEED}
goal_prompts: ["a robot arm placing a puck at the goal"]
baseline_prompts: ["a robot arm on a table"]
subtasks: ["reach and grasp the puck", "carry it to the goal"]
horizon: 150
success: {kind: info_key, key: success, latch: true}
instruction: "pick up the puck and place it at the goal"
frame_transform: {rotate: 180}
"""


def policies(seed: int) -> dict:
    """Quality name -> (fraction, policy): Meta-World's expert, clean / noisy / sent elsewhere."""
    from metaworld.policies import SawyerPickPlaceV3Policy

    expert, rng = SawyerPickPlaceV3Policy(), np.random.default_rng(seed)

    def clean(obs):
        return expert.get_action(obs)

    def noisy(obs):
        return np.clip(expert.get_action(obs) + rng.normal(0.0, 0.5, 4), -1.0, 1.0)

    def elsewhere(obs):  # the same expert, told a goal 10+ cm away along x
        wrong = obs.copy()
        wrong[-3] = -obs[-3] - 0.1 * np.sign(obs[-3] or 1.0)
        return expert.get_action(wrong)

    return {"clean": (1 / 3, clean), "noisy": (1 / 3, noisy), "elsewhere": (1 / 3, elsewhere)}


def grasped(obs, info) -> int:
    """Stage annotation from Meta-World's own info: 1 once the puck is grasped."""
    return int(info.get("grasp_success", 0.0) > 0)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--eval-episodes", type=int, default=30)
    parser.add_argument("--progress-steps", type=int, default=3000)
    parser.add_argument("--bc-steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/metaworld"))
    args = parser.parse_args(argv)

    from robrew.data.record import record_demos
    from robrew.env_factory import make_env
    from robrew.jobs.rabc import RabcExperimentConfig, format_table, run_rabc_experiment
    from robrew.taskspec import load_task
    from robrew.training.bc import BCConfig
    from robrew.training.progress import ProgressTrainConfig

    args.out.mkdir(parents=True, exist_ok=True)
    # MT1 draws its goals from the seed it is made with (reset seeds do not move them): evaluation
    # envs get one seed, so BC and RA-BC face the same goals, and recording another.
    task_file = args.out / f"metaworld_pick_place_seed{args.seed}.yaml"
    task_file.write_text(TASK.replace("EVAL_SEED", str(10_000 + args.seed)))
    spec = load_task(task_file)
    data = record_demos(
        lambda render: make_env(spec, render_mode="rgb_array" if render else None, seed=args.seed),
        None,
        args.out / "data",
        "metaworld_pick_place",
        args.episodes,
        mix=policies(args.seed),
        stage_fn=grasped,
        subtasks=spec.subtasks,
        seed=args.seed,
        overwrite=True,
    )
    result = run_rabc_experiment(
        RabcExperimentConfig(
            task=spec.source,
            data_dir=str(data),
            progress=ProgressTrainConfig(steps=args.progress_steps),
            bc=BCConfig(steps=args.bc_steps),
            eval_episodes=args.eval_episodes,
            videos=0,
            seed=args.seed,
            out_dir=str(args.out / f"seed{args.seed}"),
        )
    )
    print(format_table(result))
    return result


if __name__ == "__main__":
    main()
