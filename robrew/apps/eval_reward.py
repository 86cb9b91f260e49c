"""``robrew-eval-reward``: measure a reward model against ground truth on labelled rollouts,
with sweeps over α and prompt variants in one call.

Usage:
    robrew-eval-reward --tasks humanoid_kneeling --reward clip --pretrained path/to/clip \\
        --alphas 0 0.5 1 --prompts "a humanoid robot kneeling" --prompts "a robot on its knees|a kneeling robot"
    robrew-eval-reward --tasks tabletop_pick_place --checkpoint runs/rabc/progress_model
    robrew-eval-reward --tasks 'humanoid_*' --policies runs/bench_humanoid/runs/* --pretrained path/to/clip

Writes ``reward_eval.json``, one reward-landscape plot per task and ``reward_eval.html`` to
``--out``, and prints the table (Pearson, EPIC distance, VOC, success AUC per task x variant).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="robrew-eval-reward", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", required=True, help="task names, patterns ('humanoid_*') or task files")
    parser.add_argument("--reward", default="clip", help="registered reward model (ignored with --checkpoint)")
    parser.add_argument("--checkpoint", help="a saved reward-model directory (e.g. a progress model)")
    parser.add_argument("--model", default="ViT-B-32", help="open_clip architecture (clip)")
    parser.add_argument("--pretrained", help="open_clip tag, checkpoint file or local directory (clip)")
    parser.add_argument("--alphas", nargs="+", type=float, default=[0.0, 0.5, 1.0], help="α sweep (clip)")
    parser.add_argument(
        "--prompts", action="append", help="a goal prompt set, prompts separated by '|'; repeat for a sweep (clip)"
    )
    parser.add_argument(
        "--per-source", type=int, default=4, help="sequences per source (expert/noisy/random or near/away)"
    )
    parser.add_argument(
        "--policies",
        nargs="+",
        default=[],
        metavar="RUN",
        help="trained run dirs: their policies' episodes join their tasks' sequences (source 'policy')",
    )
    parser.add_argument("--policy-episodes", type=int, help="episodes per policy run (default: --per-source)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="reward_eval")
    args = parser.parse_args(argv)

    from robrew.eval.reward_eval import Variant, clip_variants, evaluate_reward, format_rows
    from robrew.rewards.factory import RewardConfig, RewardConfigError, build_reward_model
    from robrew.taskspec import TaskSpecError, expand_tasks

    if args.per_source <= 0:
        parser.error(f"--per-source must be positive, got {args.per_source}")
    if args.policy_episodes is not None and args.policy_episodes <= 0:
        parser.error(f"--policy-episodes must be positive, got {args.policy_episodes}")
    if args.checkpoint:
        variants, base = [Variant(args.checkpoint.rstrip("/").split("/")[-1])], {}
    elif args.reward == "clip":
        prompt_sets = [[p.strip() for p in s.split("|") if p.strip()] for s in args.prompts] if args.prompts else None
        variants, base = clip_variants(args.alphas, prompt_sets), {"model": args.model, "pretrained": args.pretrained}
    else:
        variants, base = [Variant(args.reward)], {}

    def make_model(spec, kwargs):
        cfg = RewardConfig(name=args.reward, kwargs={**base, **kwargs}, checkpoint=args.checkpoint, device=args.device)
        return build_reward_model(cfg, spec)

    try:
        result = evaluate_reward(
            make_model,
            variants,
            expand_tasks(args.tasks),
            args.out,
            per_source=args.per_source,
            seed=args.seed,
            policy_runs=args.policies,
            policy_episodes=args.policy_episodes,
        )
    except (RewardConfigError, TaskSpecError, ValueError) as e:
        print(f"robrew-eval-reward: error: {e}", file=sys.stderr)
        sys.exit(2)
    print(format_rows(result["rows"]))
    print(f"report: {result['report']}")


if __name__ == "__main__":
    main()
