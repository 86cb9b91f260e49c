"""``robrew-collect``: record mixed-quality scripted demonstrations as a Minari dataset.

Usage:
    robrew-collect --task tabletop_pick_place --episodes 60 --out data --image-size 64 [--explore 0.25]
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
    args = parser.parse_args(argv)
    from robrew.data.demos import DatasetError, collect_demos, load_demos, mix_with_exploration
    from robrew.taskspec import TaskSpecError

    if args.episodes <= 0:
        parser.error(f"--episodes must be positive, got {args.episodes}")
    try:
        mix = mix_with_exploration(args.explore)
    except ValueError as e:
        parser.error(f"--explore: {e}")
    try:
        path = collect_demos(
            args.task,
            args.out,
            args.episodes,
            mix=mix,
            seed=args.seed,
            image_size=args.image_size,
            overwrite=args.overwrite,
        )
        demos = load_demos(path)
    except (DatasetError, TaskSpecError) as e:
        print(f"robrew-collect: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"robrew-collect: interrupted; nothing in {args.out} was changed", file=sys.stderr)
        sys.exit(130)
    counts = collections.Counter((d.quality, d.success) for d in demos)
    print(f"wrote {len(demos)} episodes to {path}")
    for (quality, success), n in sorted(counts.items()):
        print(f"  {quality:<8} {'success' if success else 'failure':<8} {n}")


if __name__ == "__main__":
    main()
