"""``robrew-train-reward``: train a stage-aware progress model on a demonstration dataset.

Usage:
    robrew-train-reward --data data/robrew/tabletop_pick_place/expert-mixed-v0 --out runs/progress --steps 3000
    robrew-train-reward --data ... --out runs/progress5 --members 5 --disagreement 1.0   # bootstrapped ensemble

Saves the model with the common reward-model format (``reward_model.json`` +
``model.safetensors``) and ``report.json`` (loss curve and held-out VOC, stage accuracy,
progress MAE, success AUC). Use it for RL with
``robrew-train reward.checkpoint=runs/progress reward.name=progress``. With ``--members M`` it is
a bootstrapped ensemble scored mean - disagreement * std of its members (a reward that stays honest
where a policy leaves the demos); use it with ``reward.name=ensemble``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from robrew.apps.cli_args import add_config_arguments, config_from_arguments
    from robrew.training.progress import ProgressTrainConfig

    parser = argparse.ArgumentParser(prog="robrew-train-reward", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset directory written by robrew-collect")
    parser.add_argument("--out", required=True, help="directory for the model and report.json")
    add_config_arguments(parser, ProgressTrainConfig, defaults={"steps": 3000})
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="0: the usable cores; N: at most N (1 when other work shares the CPU)",
    )
    args = parser.parse_args(argv)

    from robrew.data.demos import DatasetError, load_demos
    from robrew.io import write_json_atomic
    from robrew.rewards import RewardModelError, save_reward_model
    from robrew.training.progress import fit_progress

    if args.steps <= 0:
        parser.error(f"--steps must be positive, got {args.steps}")
    from robrew.threads import set_torch_threads

    try:
        set_torch_threads(args.torch_threads)
    except ValueError as e:
        parser.error(f"--torch-threads: {e}")
    try:
        demos = load_demos(args.data)
    except DatasetError as e:
        print(f"robrew-train-reward: error: {e}", file=sys.stderr)
        sys.exit(2)
    cfg = config_from_arguments(ProgressTrainConfig, args)
    try:
        model, report = fit_progress(demos, cfg)
    except (ValueError, RewardModelError) as e:
        print(f"robrew-train-reward: error: {e}", file=sys.stderr)
        sys.exit(2)
    out = save_reward_model(model, Path(args.out))
    report["data"] = str(Path(args.data).resolve())  # what reward.refit trains on by default
    write_json_atomic(out / "report.json", report)
    print(
        f"loss {report['losses'][0]:.3f} -> {report['losses'][-1]:.3f}; held-out: "
        f"VOC {report.get('voc_clean', float('nan')):.3f} (reversed {report.get('voc_reversed', float('nan')):.3f}), "
        f"stage acc {report.get('stage_accuracy', float('nan')):.3f}, success AUC {report['success_auc']:.3f}"
    )
    if report.get("held_out_disagreement") is not None:
        print(f"{cfg.members} members; held-out disagreement (member std) {report['held_out_disagreement']:.4f}")
    print(f"saved to {out}")


if __name__ == "__main__":
    main()
