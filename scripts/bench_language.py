"""Benchmark (not a test): does a language-conditioned progress model generalise to
instructions it never saw, and does it say "no progress" for the wrong instruction?

A multi-task pick-and-place progress model is trained on demos whose (block colour, pad colour)
pair and phrasing come from a *seen* set; some pairs and one phrasing are held out. Input:
``--encoder slots`` (default) reads the object-centric observation of
``tabletop_pick_place_objects`` (every block and pad in a slot per colour; nothing marks the
target, so the instruction is the only cue) through instruction pointers that read MiniLM
token embeddings (``--text minilm_tokens``); ``--encoder state`` is an MLP on the same
observation (``--fusion film`` helps it), ``--encoder cnn`` reads 48-px frames.
Reported on fresh episodes, seen vs held-out:
VOC (clean demos), success AUC (clean vs failing demos), and a confusion matrix: each
held-out rollout scored with the instruction for every block colour (same pad, phrasing);
matched should be high, mismatched low.

Targets (held-out): VOC >= 0.8, success AUC >= 0.9, mismatched clearly below matched.

Usage:
    python scripts/bench_language.py [--encoder slots|state|cnn] [--train 400] [--test 24] [--steps 3000]
        [--text minilm_tokens] [--mismatch 0.3] [--out runs/bench_language]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)
from robrew.envs.tabletop.scene import COLORS
from robrew.envs.tabletop.task_defs import TASKS

HELD_OUT_PAIRS = {("red", "green"), ("blue", "yellow"), ("purple", "orange"), ("green", "red"), ("yellow", "purple")}
HELD_OUT_TEMPLATE = 3  # "move the {block} cube to the {pad} pad"
PAIRS = [(b, p) for b, p in itertools.product(COLORS, COLORS) if b != p]
SEEN = [pair for pair in PAIRS if pair not in HELD_OUT_PAIRS]


def options_fn(pairs, templates, seed):
    rng = np.random.default_rng(seed)
    plan = [
        (pairs[int(rng.integers(len(pairs)))], int(templates[int(rng.integers(len(templates)))])) for _ in range(10_000)
    ]
    return lambda i: {"block": plan[i][0][0], "pad": plan[i][0][1], "template": plan[i][1]}


def collect(task, root, n, pairs, templates, seed, image_size):
    from robrew.data.collect import collect_demos
    from robrew.data.demos import load_demos
    from robrew.envs.tabletop.expert import ExpertConfig

    mix = {"clean": (2 / 3, ExpertConfig()), "failing": (1 / 3, ExpertConfig(fail=1.0))}
    path = collect_demos(
        task, root, n, mix=mix, seed=seed, image_size=image_size, reset_options=options_fn(pairs, templates, seed)
    )
    return load_demos(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--test", type=int, default=24)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument(
        "--encoder",
        default="slots",
        choices=("slots", "state", "cnn"),
        help="slots / state: the object-centric observation (tabletop_pick_place_objects: a slot per colour, "
        "nothing marks the target) through instruction pointers / an MLP; cnn: frames",
    )
    parser.add_argument("--text", default="minilm_tokens", choices=("minilm_tokens", "minilm", "hash"))
    parser.add_argument(
        "--fusion", default="concat", choices=("film", "concat"), help="film helps the state / cnn encoders"
    )
    parser.add_argument(
        "--mismatch",
        type=float,
        default=0.3,
        help="fraction of rows with another task's instruction, labelled no progress",
    )
    parser.add_argument("--image-size", type=int, help="frame size (default 48 for cnn; 16 otherwise: frames unused)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--shift", type=int, default=3, help="random-shift augmentation (pixels)")
    parser.add_argument("--out", default="runs/bench_language")
    args = parser.parse_args()
    args.image_size = args.image_size or (48 if args.encoder == "cnn" else 16)
    from robrew.training.progress import (
        ProgressTrainConfig,
        evaluate_progress_model,
        fit_progress_model,
        instruction_confusion,
    )

    start = time.perf_counter()
    seen_templates = [t for t in range(len(TASKS["pick_place"].instructions)) if t != HELD_OUT_TEMPLATE]
    task = "tabletop_pick_place" if args.encoder == "cnn" else "tabletop_pick_place_objects"
    train = collect(task, f"{args.out}/train", args.train, SEEN, seen_templates, 0, args.image_size)
    test_seen = collect(task, f"{args.out}/test_seen", args.test, SEEN, seen_templates, 1000, args.image_size)
    test_held = collect(
        task,
        f"{args.out}/test_held_out",
        args.test,
        sorted(HELD_OUT_PAIRS),
        [HELD_OUT_TEMPLATE, *seen_templates],
        2000,
        args.image_size,
    )
    print(
        f"demos: {len(train)} train, {len(test_seen)} seen test, {len(test_held)} held-out test "
        f"({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    cfg = ProgressTrainConfig(
        encoder=args.encoder,
        text=args.text,
        fusion=args.fusion,
        proprio_dim=7,
        steps=args.steps,
        batch_size=args.batch_size,
        val_fraction=0.05,
        mismatch=args.mismatch,
        shift=args.shift,
    )
    model, _ = fit_progress_model(train, cfg)
    print(
        f"trained {args.encoder} + {args.text} ({args.fusion}) progress model, {args.steps} steps "
        f"({time.perf_counter() - start:.0f} s)\n",
        flush=True,
    )
    print(f"{'instructions':<12}{'VOC clean':>11}{'reversed':>10}{'success AUC':>13}{'matched':>9}{'mismatched':>12}")
    for name, demos in (("seen", test_seen), ("held-out", test_held)):
        m = evaluate_progress_model(model, demos)
        conf, _ = instruction_confusion(model, demos, TASKS["pick_place"].instructions[0], list(COLORS))
        rows = np.arange(len(conf))
        cols = [list(COLORS).index(c) for c in _]
        matched = float(np.mean(conf[rows, cols]))
        mismatched = float((conf.sum() - conf[rows, cols].sum()) / (conf.size - len(rows)))
        print(
            f"{name:<12}{m.get('voc_clean', float('nan')):>11.3f}{m.get('voc_reversed', float('nan')):>10.3f}"
            f"{m['success_auc']:>13.3f}{matched:>9.2f}{mismatched:>12.2f}"
        )
        if name == "held-out":
            print("\nheld-out confusion (rows: block the rollout moved; columns: block named; final progress):")
            print(" " * 9 + "".join(f"{c:>8}" for c in COLORS))
            for c, r in zip(_, conf):
                print(f"{c:<9}" + "".join(f"{v:>8.2f}" for v in r))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
