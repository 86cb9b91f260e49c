"""Benchmark (not a test): RL that starts from demonstrations, against the baselines.

Rows, by name, same seed and budget each (tabletop push and pick-and-place):
  sparse          sparse success reward, no demos (SAC)
  sparse_demos    sparse success reward + demos in every batch (SAC, demo_ratio 0.5)
  progress_demos  learned progress reward (potential shaping on the sparse reward) + demos
  rabc            RA-BC alone, no RL (the main job's policy on the same demos)
  dense_demos     hand-written dense reward + demos (reference)
  residual        the rabc row's policy (or ``--base``: a robrew-rabc run's) fine-tuned by residual
                  SAC on the progress_demos reward (robrew-train finetune=...); also prints the base
                  policy alone on the same episodes

Prints ground-truth success vs env steps for each row, steps to 80% success, the final success
with a Wilson 95% interval, the Spearman correlation of model return and success across
evaluations, wall time and env steps/s; writes ``curves.png``.

Usage:
    python scripts/bench_rl.py [--task push pick_place] [--rows sparse rabc ...] [--seeds 1] [--first-seed 0]
        [--steps 30000] [--demos 60] [--evals 6] [--final-episodes 50] [--jobs 2] [--robrew-extras]
        [--normalize] [--n-step N] [--composition potential|replace] [--members M] [--disagreement L]
        [--residual-scale S] [--residual-penalty P] [--base RABC_DIR] [--out runs/bench_rl]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)

ROWS = {
    "sparse": "sparse, no demos",
    "sparse_demos": "sparse + demos",
    "progress_demos": "progress + demos",
    "rabc": "RA-BC alone",
    "dense_demos": "dense + demos",
    "residual": "RA-BC + residual RL",
}


def prepare(task: str, out: Path, demos: int, seed: int, members: int = 1, disagreement: float = 1.0) -> dict:
    """Demos, a sparse task file and the progress model for one task and seed (made once)."""
    import yaml

    from robrew.data.collect import collect_demos
    from robrew.data.demos import load_demos
    from robrew.io import write_json_atomic
    from robrew.rewards import save_reward_model
    from robrew.taskspec import load_task, task_dir
    from robrew.training.progress import ProgressTrainConfig, fit_progress

    root = out / f"{task}_seed{seed}"
    root.mkdir(parents=True, exist_ok=True)
    name = f"tabletop_{task}"
    data = collect_demos(name, root / "data", demos, seed=seed, image_size=16, overwrite=True)
    spec = yaml.safe_load((task_dir() / f"{name}.yaml").read_text())
    spec.update(name=f"{name}_sparse_bench", env_kwargs={**spec.get("env_kwargs", {}), "reward": "sparse"})
    (root / "sparse.yaml").write_text(yaml.safe_dump(spec))
    load_task(root / "sparse.yaml")
    # Rows b and c run in the sparse task: their demos must carry its reward, not the dense one.
    sparse_data = collect_demos(
        str(root / "sparse.yaml"), root / "data", demos, seed=seed, image_size=16, overwrite=True
    )
    cfg = ProgressTrainConfig(steps=3000, seed=seed, members=members, disagreement=disagreement)
    model, report = fit_progress(load_demos(data), cfg)
    save_reward_model(model, root / "progress")
    write_json_atomic(root / "progress" / "report.json", report)
    return {
        "data": str(data),
        "sparse_data": str(sparse_data),
        "sparse": str(root / "sparse.yaml"),
        "progress": str(root / "progress"),
        "root": root,
    }


def run_row(row: str, task: str, prep: dict, args, seed: int) -> dict:
    """One RL row through robrew's own train(); returns its curve and final evaluation."""
    import torch

    torch.set_num_threads(1)
    from robrew.agents.residual import ResidualConfig
    from robrew.agents.sac import SacConfig, SacParams
    from robrew.rewards.factory import Composition, RewardConfig
    from robrew.runs import TaskConfig, TrainConfig
    from robrew.training.train import train

    run_dir = Path(prep["root"]) / f"row_{row}"
    task_cfg = (
        TaskConfig(f"tabletop_{task}") if row == "dense_demos" else TaskConfig(f"tabletop_{task}", path=prep["sparse"])
    )
    reward = RewardConfig()
    base = Path(args.base) if row == "residual" and args.base else Path(prep["root"]) / "row_rabc"  # a robrew-rabc dir
    if row in ("progress_demos", "residual"):
        reward = RewardConfig(
            name="ensemble" if args.members > 1 else "progress",
            checkpoint=str(base / "progress_model") if row == "residual" and args.base else prep["progress"],
            composition=Composition(args.composition),
            model_weight=args.scale,
        )
    extras = row == "progress_demos" and args.robrew_extras  # RA-BC-pretrained actor, critic warm-up, LayerNorm critics
    algo = SacConfig(
        params=SacParams(
            learning_starts=1000,
            buffer_size=max(args.steps, 10_000),
            batch_size=256,
            critic_layer_norm=True if extras else None,
            n_steps=args.n_step if args.n_step > 1 else None,
        ),
        demos={
            "sparse_demos": prep["sparse_data"],
            "progress_demos": prep["sparse_data"],
            "dense_demos": prep["data"],
        }.get(row),
        demo_ratio=0.5,
        pretrain="rabc" if extras else "none",
        actor_warmup=2000 if extras or row == "residual" else 0,
        base_policy=str(base / "policies" / "rabc") if row == "residual" else None,
        residual=ResidualConfig(scale=args.residual_scale, penalty=args.residual_penalty),
    )
    if row == "residual":
        algo.params.critic_layer_norm = True
    cfg = TrainConfig(
        task=task_cfg,
        reward=reward,
        algo=algo,
        seed=seed,
        n_envs=1,
        total_timesteps=args.steps,
        checkpoint_every=args.steps,
        eval_every=max(1, args.steps // args.evals),
        eval_episodes=args.eval_episodes,
        progress_bar=False,
        torch_threads=1,
        normalize=True if args.normalize else None,  # None: the family's default
    )
    import shutil

    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    metrics = train(cfg, run_dir)
    wall = time.perf_counter() - start
    from robrew.eval.evaluate import evaluate_run

    final = evaluate_run(run_dir, episodes=args.final_episodes, videos=0, seed=50_000 + seed)
    lines = (run_dir / "curve.csv").read_text().splitlines()[1:]
    curve = [tuple(float(x) for x in line.split(",")) for line in lines]
    out = {
        "row": row,
        "task": task,
        "seed": seed,
        "curve": curve,
        "final": final["success_rate"],
        "wall_s": wall,
        "steps_per_s": metrics.get("env_steps_per_s"),
    }
    if row == "progress_demos":
        out["model_on_policy"] = model_on_policy(run_dir, reward.checkpoint, prep["data"])
    if row == "residual":  # the base policy alone (a zero correction) on the same final episodes
        from robrew.metrics.rollouts import run_episodes, success_rate
        from robrew.runs import make_run_env, resolve_task

        spec = resolve_task(cfg)
        zero = np.zeros(4, np.float32)
        eps = run_episodes(lambda r: make_run_env(spec, cfg, r), lambda o: zero, args.final_episodes, 50_000 + seed)
        out["base_alone"] = success_rate([e.success for e in eps])
    return out


def model_on_policy(run_dir: Path, checkpoint: str, data: str, episodes: int = 10) -> dict:
    """How the reward model reads the trained policy's states against the demos' (exploitation):
    mean score per step on each, and for an ensemble the members' disagreement on each."""
    from robrew.data.demos import load_demos
    from robrew.eval.labelled_rollouts import policy_rollouts
    from robrew.rewards import load_reward_model

    model = load_reward_model(checkpoint)
    _, seqs = policy_rollouts(run_dir, episodes, frames=False)
    demos = [d for d in load_demos(data) if d.success]
    out = {"policy_success": float(np.mean([q.success for q in seqs]))}
    for name, items in (
        ("policy", [(q.obs, q.instruction) for q in seqs]),
        ("demos", [(d.observations, d.instruction) for d in demos]),
    ):
        out[f"score_{name}"] = float(np.mean([model.score(obs=o, instructions=i).mean() for o, i in items]))
        if hasattr(model, "disagreement"):
            out[f"disagreement_{name}"] = float(
                np.mean([model.disagreement(obs=o, instructions=i).mean() for o, i in items])
            )
    return out


def run_rabc(task: str, prep: dict, args, seed: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from robrew.jobs.rabc import RabcExperimentConfig, run_rabc_experiment
    from robrew.training.bc import Weighting

    start = time.perf_counter()
    cfg = RabcExperimentConfig(
        task=f"tabletop_{task}",
        data_dir=prep["data"],
        methods=[Weighting.rabc],
        eval_episodes=args.final_episodes,
        videos=0,
        seed=seed,
        out_dir=str(Path(prep["root"]) / "row_rabc"),
    )
    r = run_rabc_experiment(cfg)
    return {
        "row": "rabc",
        "task": task,
        "seed": seed,
        "curve": [],
        "final": r["policies"]["rabc"]["success_rate"],
        "wall_s": time.perf_counter() - start,
        "steps_per_s": None,
    }


def summarise(results: list[dict], out: Path) -> None:
    from scipy import stats

    from robrew.plotting import figure

    print(
        f"\n{'task':<11}{'row':<20}{'seed':>5}{'final success':>16}{'95% CI':>14}{'steps to 80%':>14}"
        f"{'spearman':>10}{'wall s':>8}{'steps/s':>9}"
    )
    for r in sorted(results, key=lambda r: (r["task"], r["row"], r["seed"])):
        curve = np.array(r["curve"]) if r["curve"] else np.zeros((0, 4))
        hit = curve[curve[:, 1] >= 0.8, 0] if len(curve) else []
        to80 = f"{int(hit[0])}" if len(hit) else "-"
        rho = "-"
        if len(curve) >= 3 and np.isfinite(curve[:, 3]).all() and np.ptp(curve[:, 1]) > 0:
            rho = f"{stats.spearmanr(curve[:, 3], curve[:, 1])[0]:.2f}"
        f = r["final"]
        sps = f"{r['steps_per_s']:.0f}" if r["steps_per_s"] else "-"
        print(
            f"{r['task']:<11}{r['row'] + ' ' + ROWS[r['row']]:<20}{r['seed']:>5}{f['mean']:>16.0%}"
            f"{'[' + format(f['low'], '.0%') + ', ' + format(f['high'], '.0%') + ']':>14}{to80:>14}{rho:>10}"
            f"{r['wall_s']:>8.0f}{sps:>9}"
        )
        if "model_on_policy" in r:
            print(
                "    reward model on the policy's states vs the successful demos':",
                {k: round(v, 3) for k, v in r["model_on_policy"].items()},
            )
        if "base_alone" in r:
            b = r["base_alone"]
            print(f"    base policy alone on the same episodes: {b['mean']:.0%} [{b['low']:.0%}, {b['high']:.0%}]")
        for row in curve:
            print(
                f"    step {int(row[0]):>7}: success {row[1]:.0%}, env return {row[2]:.2f}, model return {row[3]:.3f}"
            )
    tasks = sorted({r["task"] for r in results})
    with figure(out / "curves.png", 1, len(tasks), figsize=(5 * len(tasks), 3.5), squeeze=False) as (fig, axes):
        for ax, task in zip(axes[0], tasks):
            for r in results:
                if r["task"] == task and r["curve"]:
                    c = np.array(r["curve"])
                    ax.plot(c[:, 0], c[:, 1], marker="o", label=f"{r['row']} {ROWS[r['row']]} s{r['seed']}")
                elif r["task"] == task:
                    ax.axhline(r["final"]["mean"], ls="--", color="k", label=f"d {ROWS['d']}")
            ax.set_title(f"tabletop_{task}")
            ax.set_xlabel("env steps")
            ax.set_ylabel("ground-truth success")
            ax.set_ylim(-0.02, 1.02)
            ax.legend(fontsize=6)
    print(f"\ncurves: {out / 'curves.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", nargs="+", default=["push", "pick_place"], choices=("push", "pick_place"))
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--demos", type=int, default=60)
    parser.add_argument("--evals", type=int, default=6)
    parser.add_argument("--eval-episodes", type=int, default=10, help="episodes per evaluation during training")
    parser.add_argument("--final-episodes", type=int, default=50)
    parser.add_argument("--scale", type=float, default=10.0, help="rows progress_demos/residual: progress weight k")
    parser.add_argument(
        "--composition",
        default="potential",
        choices=("potential", "replace"),
        help="rows progress_demos/residual: progress as a potential on the sparse reward, or alone as the "
        "reward (the exploit test)",
    )
    parser.add_argument(
        "--members", type=int, default=1, help="rows progress_demos/residual: a bootstrapped progress ensemble of M"
    )
    parser.add_argument("--disagreement", type=float, default=1.0, help="ensemble score: mean - this * member std")
    parser.add_argument("--residual-scale", type=float, default=0.3, help="row residual: largest correction per action")
    parser.add_argument(
        "--residual-penalty", type=float, default=0.0, help="row residual: reward minus this x correction²"
    )
    parser.add_argument(
        "--base", help="row residual: fine-tune this robrew-rabc run (policy and progress model), not row rabc's"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--n-step", type=int, default=1, help="n-step returns in every RL row (demos and online)")
    parser.add_argument("--normalize", action="store_true", help="VecNormalize (obs, reward) in every RL row")
    parser.add_argument(
        "--robrew-extras",
        action="store_true",
        help="row progress_demos also pretrains the actor by RA-BC, warms the critic up 2000 steps, LayerNorm critics",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench_rl"))
    args = parser.parse_args()
    print("torch threads per run: 1", flush=True)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    preps = {
        (t, s): prepare(t, out, args.demos, s, args.members, args.disagreement)
        for t in args.task
        for s in range(args.first_seed, args.first_seed + args.seeds)
    }
    print(f"demos and progress models ready ({time.perf_counter() - start:.0f} s)", flush=True)
    if args.base:
        base_task = json.loads((Path(args.base) / "results.json").read_text())["config"]["task"]
        if args.task != [base_task.removeprefix("tabletop_")]:
            parser.error(f"--base {args.base} is a {base_task} policy: run it with --task {base_task[9:]}")
    if "residual" in args.rows and "rabc" not in args.rows and not args.base:
        parser.error("row residual fine-tunes row rabc's RA-BC policy: include row rabc")
    results = []

    def collect(futures) -> None:
        for f in futures:
            r = f.result()
            results.append(r)
            print(
                f"done: {r['task']} row {r['row']} seed {r['seed']}: {r['final']['mean']:.0%} ({r['wall_s']:.0f} s)",
                flush=True,
            )

    with ProcessPoolExecutor(args.jobs) as pool:
        futures = []
        for (task, seed), prep in preps.items():
            for row in args.rows:
                if row == "rabc":
                    futures.append(pool.submit(run_rabc, task, prep, args, seed))
                elif row != "residual":
                    futures.append(pool.submit(run_row, row, task, prep, args, seed))
        collect(futures)
        if "residual" in args.rows:  # after the rabc row: it fine-tunes that row's policy
            collect([pool.submit(run_row, "residual", task, prep, args, seed) for (task, seed), prep in preps.items()])
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    summarise(results, out)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
