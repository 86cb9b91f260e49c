"""``robrew-train-reward``: train a stage-aware progress model on a demonstration dataset.

Usage:
    robrew-train-reward --data data/robrew/tabletop_pick_place/expert-mixed-v0 --out runs/progress --steps 3000

Saves the model with the common reward-model format (``reward_model.json`` +
``model.safetensors``) and ``report.json`` (loss curve and held-out VOC, stage accuracy,
progress MAE, success AUC). Use it for RL with
``robrew-train reward.checkpoint=runs/progress reward.name=progress``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="robrew-train-reward", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset directory written by robrew-collect")
    parser.add_argument("--out", required=True)
    parser.add_argument("--encoder", choices=("state", "slots", "cnn", "clip"), default="state")
    parser.add_argument(
        "--proprio-dim",
        type=int,
        help="--encoder slots: leading non-slot observation values (7 for tabletop obs=objects)",
    )
    parser.add_argument("--text", choices=("hash", "minilm", "minilm_tokens", "clip", "none"), default="hash")
    parser.add_argument("--clip-model", default="ViT-B-32", help="open_clip architecture (--encoder clip)")
    parser.add_argument("--clip-pretrained", help="open_clip tag, checkpoint file or local directory (--encoder clip)")
    parser.add_argument(
        "--fusion", choices=("concat", "film"), default="concat", help="how the instruction conditions the features"
    )
    parser.add_argument("--window", type=int, default=1, help="frames per input (causal window)")
    parser.add_argument("--rewind", type=float, default=0.0, help="fraction of rewound clips per batch (--window > 1)")
    parser.add_argument(
        "--mismatch",
        type=float,
        default=0.0,
        help="fraction of rows given another task's instruction, labelled no progress",
    )
    parser.add_argument("--shift", type=int, default=0, help="random-shift augmentation in pixels (frame encoders)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    from robrew.data.demos import DatasetError, load_demos
    from robrew.io import write_json_atomic
    from robrew.rewards import RewardModelError, save_reward_model
    from robrew.training.progress import ProgressTrainConfig, fit_progress_model

    if args.steps <= 0:
        parser.error(f"--steps must be positive, got {args.steps}")
    try:
        demos = load_demos(args.data)
    except DatasetError as e:
        print(f"robrew-train-reward: error: {e}", file=sys.stderr)
        sys.exit(2)
    cfg = ProgressTrainConfig(
        encoder=args.encoder,
        text=args.text,
        steps=args.steps,
        seed=args.seed,
        device=args.device,
        clip_model=args.clip_model,
        clip_pretrained=args.clip_pretrained,
        fusion=args.fusion,
        proprio_dim=args.proprio_dim,
        window=args.window,
        rewind=args.rewind,
        mismatch=args.mismatch,
        shift=args.shift,
    )
    try:
        model, report = fit_progress_model(demos, cfg)
    except (ValueError, RewardModelError) as e:
        print(f"robrew-train-reward: error: {e}", file=sys.stderr)
        sys.exit(2)
    out = save_reward_model(model, Path(args.out))
    write_json_atomic(out / "report.json", report)
    print(
        f"loss {report['losses'][0]:.3f} -> {report['losses'][-1]:.3f}; held-out: "
        f"VOC {report.get('voc_clean', float('nan')):.3f} (reversed {report.get('voc_reversed', float('nan')):.3f}), "
        f"stage acc {report.get('stage_accuracy', float('nan')):.3f}, success AUC {report['success_auc']:.3f}"
    )
    print(f"saved to {out}")


if __name__ == "__main__":
    main()
