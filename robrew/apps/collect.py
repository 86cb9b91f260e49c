"""``robrew-collect``: record demonstrations as a Minari dataset: robrew's mixed-quality scripted
experts, or any policy in any Gymnasium env.

Usage:
    robrew-collect --task tabletop_pick_place --episodes 60 --out data --image-size 64 [--explore 0.25]
    robrew-collect --env Pusher-v5 --policy my_policies:expert --episodes 20 --out data [--frames]
    robrew-collect --task my_metaworld.yaml --policy my_policies:expert --episodes 30   # success from the task file
    robrew-collect --run runs/humanoid_kneeling/<time> --mix clean=20,noisy=20,failing=20 --out data
    robrew-collect --task my_task.yaml --policy my_policies:expert --mix clean=30,failing=10 --failing stop
    robrew-collect --lerobot ~/datasets/pick_cube --camera observation.images.top --out data   # import LeRobot v3
"""

from __future__ import annotations

import argparse
import collections
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="robrew-collect", description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="tabletop_pick_place")
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--out", default="data", help="Minari datasets root")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing dataset of this task in --out (only once the new one is complete)",
    )
    parser.add_argument(
        "--explore",
        type=float,
        default=0.0,
        help="fraction of exploration episodes (random waypoints, annotated as no progress): negatives "
        "for a progress model used as an RL reward",
    )
    parser.add_argument("--env", help="record in this Gymnasium env id (or module:id) instead of a task")
    parser.add_argument("--policy", help="module:callable, a policy obs -> action (a class is instantiated)")
    parser.add_argument("--frames", action="store_true", help="with --policy: store a frame per step")
    parser.add_argument("--instruction", help="with --policy: the episodes' instruction")
    parser.add_argument("--name", help="with --policy: dataset name (default: from --env / --task)")
    parser.add_argument("--max-steps", type=int, help="with --policy: cut episodes at this many steps")
    parser.add_argument("--run", help="record the deterministic policy of this robrew-train run (in its own env)")
    parser.add_argument(
        "--mix",
        help="with --run / --policy: a quality mix, e.g. clean=20,noisy=20,failing=20 (replaces --episodes); "
        "every episode is flagged only by its success",
    )
    parser.add_argument("--noise", type=float, default=0.3, help="with --mix: action noise std of noisy episodes")
    parser.add_argument(
        "--failing",
        default="random",
        choices=["random", "stop"],
        help="with --mix: failing episodes act at random, or stop acting after --stop-after steps",
    )
    parser.add_argument("--stop-after", type=int, default=10, help="with --failing stop")
    parser.add_argument(
        "--workers", type=int, default=0, help="processes recording the scripted expert (0: the usable cores)"
    )
    parser.add_argument("--lerobot", help="import the LeRobot v3 dataset in this directory instead of recording")
    parser.add_argument("--camera", help="with --lerobot: the video key for frames (default: the first)")
    parser.add_argument("--success-key", help="with --lerobot: per-frame success column (default: all succeed)")
    args = parser.parse_args(argv)
    import gymnasium as gym

    from robrew.data.collect import collect_demos, mix_with_exploration
    from robrew.data.demos import DatasetError, load_demos
    from robrew.runs import ConfigError
    from robrew.taskspec import TaskSpecError
    from robrew.threads import usable_cores

    if args.episodes <= 0:
        parser.error(f"--episodes must be positive, got {args.episodes}")
    if args.workers < 0:
        parser.error(f"--workers must be >= 0, got {args.workers}")
    if args.env and not args.policy:
        parser.error("--env records a policy of yours: pass --policy module:callable")
    if args.run and (args.policy or args.env or args.lerobot):
        parser.error("--run records that run's policy in its own env: drop --policy / --env / --lerobot")
    if args.mix and not (args.run or args.policy):
        parser.error("--mix mixes a policy's episodes: pass --run RUN_DIR or --policy module:callable")
    try:
        mix = mix_with_exploration(args.explore)
    except ValueError as e:
        parser.error(f"--explore: {e}")
    try:
        if args.lerobot:
            from robrew.data.lerobot import import_lerobot

            path = import_lerobot(
                args.lerobot,
                args.out,
                name=args.name,
                camera=args.camera,
                frames=args.frames,
                image_size=args.image_size,
                success_key=args.success_key,
                overwrite=args.overwrite,
            )
        elif args.policy or args.run:
            path = _record(args)
        else:
            path = collect_demos(
                args.task,
                args.out,
                args.episodes,
                mix=mix,
                seed=args.seed,
                image_size=args.image_size,
                overwrite=args.overwrite,
                workers=args.workers or usable_cores(),
            )
        demos = load_demos(path)
    except (DatasetError, TaskSpecError, ConfigError, gym.error.Error) as e:
        print(f"robrew-collect: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"robrew-collect: interrupted; nothing in {args.out} was changed", file=sys.stderr)
        sys.exit(130)
    counts = collections.Counter((d.quality, d.success) for d in demos)
    print(f"wrote {len(demos)} episodes to {path}")
    for (quality, success), n in sorted(counts.items()):
        print(f"  {quality:<8} {'success' if success else 'failure':<8} {n}")


def _record(args):
    """``--policy`` / ``--run`` mode: the env from ``--env``, the task file or the run, through
    :func:`record_demos` (with ``--mix``, a clean / noisy / failing mix of the policy)."""
    import re

    from robrew.data.demos import recorded_env
    from robrew.data.record import load_callable, parse_mix, quality_mix, record_demos

    if args.run:
        from robrew.runs import load_run_policy

        run = load_run_policy(args.run)
        policy, default_name, recorded = run.act, run.spec.name, recorded_env(run.spec)

        def env_fn(render):
            return run.make_env(render)

    else:
        policy = load_callable(args.policy)
        if args.env:
            import gymnasium as gym

            def env_fn(render):
                return gym.make(args.env, render_mode="rgb_array" if render else None)

            default_name, recorded = args.env, None  # from the env's spec
        else:
            from robrew.env_factory import make_env
            from robrew.taskspec import load_task

            spec = load_task(args.task)

            def env_fn(render):
                return make_env(spec, render_mode="rgb_array" if render else None)

            default_name, recorded = spec.name, recorded_env(spec)
    mix, episodes = None, args.episodes
    if args.mix:
        counts = parse_mix(args.mix)
        probe = env_fn(False)
        space = probe.action_space
        probe.close()
        mix = quality_mix(policy, space, counts, args.noise, args.failing, args.stop_after, seed=args.seed)
        policy, episodes = None, sum(counts.values())
    return record_demos(
        env_fn,
        policy,
        args.out,
        args.name or re.sub(r"[^A-Za-z0-9_-]+", "-", default_name.split(":")[-1]).strip("-"),
        episodes,
        mix=mix,
        instruction=args.instruction,
        frames=args.frames,
        seed=args.seed,
        max_steps=args.max_steps,
        overwrite=args.overwrite,
        recorded_env=recorded,
    )


if __name__ == "__main__":
    main()
