"""Benchmark (not a test): RL that improves a working policy, from a ``robrew-rabc`` directory.

Rows (each trained on ``--train-task``, default the sparse-reward variant of the directory's task,
``<task>_sparse``; the final success is always measured on ``<task>_sparse``, episodes of its
full horizon):
  base       the base policy alone (--policy, default the RA-BC one; a zero residual), on the same
             evaluation seeds as every row
  sparse     residual PPO on the sparse success reward (robrew-train finetune=DIR finetune_reward=env)
  potential  residual PPO on success + the directory's progress model as a potential
             (finetune_reward=progress reward.composition=potential)
  sac        residual SAC on the potential row's reward, at its own budget (--sac-steps)
--residual-hold K: the PPO rows decide every K env steps and hold their correction in between
(algo.residual.hold; --steps still counts env steps, --n-steps learner steps per env per update).
--hard-starts P: the PPO rows start that share of their training episodes on layouts where the
base failed (a probe of --probe episodes first; robrew.training.hard_starts); --hard-start-at stall
hands those episodes over --lead steps before the base policy's stall on them.

--stall-reach RUN: instead of training, measures what a bounded correction can do from the stall
states of RUN (a fine-tuning run with stall hard starts): per --reach-scales residual scale, the
base alone, a constant random correction (uniform in the learner's [-1, 1] range) held for --hold
steps then none (--tries per state), and iid Gaussian corrections at the learner's initial std.

--outcome-spread: instead of training, measures how often the learner's initial exploration noise
(N(0, exp(--log-std)), iid per step or each draw held --hold steps, per --reach-scales) changes an
episode's outcome against the base alone on the same layout (--states layouts, --tries each): the
episodes from which PPO's sparse success signal can learn anything.

First prints env steps/s of plain PPO and residual PPO on the same task and envs, one after the
other (--speed-steps; 0 skips). Then, per row and seed: success vs env steps (--eval-episodes per
point, fixed seeds), env steps to 95%, final success over --final-episodes with a Wilson 95%
interval (mean action; "sampled": actions drawn from the learned policy, its exploration noise
included), env steps/s and wall time, and for the potential row Spearman(model return, success)
across evaluations (the over-optimisation watch); writes ``curves.png`` and ``results.json`` under --out.

Usage:
    python scripts/bench_finetune.py --rabc runs/rabc [--policy rabc] [--rows base sparse potential sac] [--seeds 3]
        [--first-seed 0] [--steps 3000000] [--sac-steps 20000] [--n-envs 8] [--evals 10]
        [--eval-episodes 100] [--final-episodes 200] [--jobs 1] [--out runs/bench_finetune]
        [--train-task tabletop_pick_place_until_success] [--gamma 0.999] [--scale S] [--log-std L] [--sde]
        [--residual-hold K] [--n-steps N]
        [--hard-starts 0.5] [--probe 500] [--hard-start-at reset|stall] [--lead 5]
        [--speed-steps 20480]
    python scripts/bench_finetune.py --stall-reach RUN [--states 60] [--tries 8] [--hold 15] [--reach-scales 0.1 0.3]
    python scripts/bench_finetune.py --outcome-spread --rabc runs/rabc [--policy none] [--states 50] [--tries 2]
        [--hold 15] [--reach-scales 0.1 0.3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)
from robrew.agents.ppo import PpoConfig, PpoParams, PpoResidualConfig
from robrew.agents.sac import SacConfig, SacParams
from robrew.threads import usable_cores

ROWS = ("base", "sparse", "potential", "sac")
EVAL_SEED, FINAL_SEED = 10_000, 20_000  # robrew-train's evaluations use 10_000 + seed


def row_config(row: str, args, seed: int):
    """The robrew-train config of one row (the same as its command line)."""
    from robrew.agents.residual import HardStartConfig
    from robrew.rewards.factory import Composition, RewardConfig
    from robrew.runs import FinetuneReward, TaskConfig, TrainConfig

    sparse = row == "sparse"
    steps = args.sac_steps if row == "sac" else args.steps // args.residual_hold  # learner steps
    algo = (
        SacConfig(params=SacParams(critic_layer_norm=True), actor_warmup=2000)
        if row == "sac"
        else PpoConfig(
            params=PpoParams(
                log_std_init=args.log_std, use_sde=args.sde or None, gamma=args.gamma, n_steps=args.n_steps
            ),
            residual=PpoResidualConfig(
                scale=args.scale,
                hold=args.residual_hold,
                hard_starts=HardStartConfig(
                    probability=args.hard_starts, probe=args.probe, start=args.hard_start_at, lead=args.lead
                ),
            ),
        )
    )
    return TrainConfig(
        task=TaskConfig(args.train_task or f"{args.task}_sparse"),
        reward=RewardConfig(composition=Composition.replace if sparse else Composition.potential),
        algo=algo,
        seed=seed,
        n_envs=1 if row == "sac" else args.n_envs,
        total_timesteps=steps,
        checkpoint_every=steps,
        eval_every=max(1, steps // args.evals),
        eval_episodes=args.eval_episodes,
        progress_bar=False,
        torch_threads=1 if args.jobs > 1 else 0,
        finetune=str(Path(args.rabc).resolve()),
        finetune_reward=FinetuneReward.env if sparse else FinetuneReward.progress,
        finetune_policy=args.policy,
    )


def run_row(row: str, seed: int, args) -> dict:
    """Trains one row (or evaluates the base) and returns its curve and final figures."""
    from robrew.metrics.rollouts import run_episodes, success_rate
    from robrew.runs import finetune_config, load_base_policy, make_run_env, resolve_task
    from robrew.training.train import train

    run_dir = Path(args.out) / f"{row}_seed{seed}"
    if row == "base":
        from dataclasses import replace

        from robrew.runs import TaskConfig

        cfg = finetune_config(row_config("sparse", args, seed), args.rabc)
        final_cfg = replace(cfg, task=TaskConfig(f"{args.task}_sparse"))  # what every row's final is measured on
        zero = np.zeros(load_base_policy(cfg).act_dim, np.float32)

        def act(obs):
            return zero

        def rate(run_cfg, first: int, n: int) -> dict:
            spec = resolve_task(run_cfg)
            eps = run_episodes(lambda r: make_run_env(spec, run_cfg, r), act, n, first)
            return success_rate([e.success for e in eps])

        start = time.perf_counter()
        # The curve point as robrew-train evaluates (the training task), the final on the full horizon.
        curve_point = rate(cfg, EVAL_SEED + seed, args.eval_episodes)
        final = rate(final_cfg, FINAL_SEED, args.final_episodes)
        return {
            "row": row,
            "seed": seed,
            "curve": [(0, curve_point["mean"], float("nan"))],
            "final": final,
            "wall_s": time.perf_counter() - start,
            "steps_per_s": None,
        }
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    metrics = train(row_config(row, args, seed), run_dir)
    wall = time.perf_counter() - start
    final = final_success(run_dir, f"{args.task}_sparse", args.final_episodes)
    sampled = final_success(run_dir, f"{args.task}_sparse", args.final_episodes, deterministic=False)
    lines = (run_dir / "curve.csv").read_text().splitlines()[1:]
    hold = metrics["env_steps"] // metrics["num_timesteps"]  # the curve counts learner steps: in env steps
    curve = [(float(t) * hold, float(s), float(m)) for t, s, _, m in (line.split(",") for line in lines)]
    return {
        "row": row,
        "seed": seed,
        "curve": curve,
        "final": final["success_rate"],
        "final_sampled": sampled["success_rate"],
        "wall_s": wall,
        "steps_per_s": metrics.get("env_steps_per_s"),
        "spearman": (metrics.get("final_eval") or {}).get("reward_success_spearman"),
    }


def speed(args) -> dict:
    """Env steps/s of plain PPO and of residual PPO on the same task, settings and env count, one
    after the other in this process (the residual's cost: the batched base policy, the wider
    observation)."""
    from dataclasses import replace

    from robrew.runs import finetune_config
    from robrew.training.train import train

    out = {}
    residual = finetune_config(row_config("sparse", args, 0), args.rabc)
    plain = replace(residual, finetune=None, algo=replace(residual.algo, base_policy=None), normalize=True)
    for name, cfg in (("plain", plain), ("residual", residual)):
        run_dir = Path(args.out) / f"speed_{name}"
        shutil.rmtree(run_dir, ignore_errors=True)
        learner_steps = args.speed_steps // (args.residual_hold if name == "residual" else 1)
        cfg = replace(cfg, total_timesteps=learner_steps, eval_episodes=0, checkpoint_every=10**9)
        cfg.algo.params.n_steps, cfg.algo.params.batch_size = 256, 512  # the residual family's, for both
        out[name] = train(cfg, run_dir)["env_steps_per_s"]
    out["ratio"] = out["residual"] / out["plain"]
    print(
        f"speed, {args.n_envs} envs, {args.speed_steps} steps each: plain PPO {out['plain']:.0f} env steps/s, "
        f"residual PPO {out['residual']:.0f} ({out['ratio']:.0%} of plain)",
        flush=True,
    )
    return out


def final_success(run_dir: Path, task: str, episodes: int, deterministic: bool = True) -> dict:
    """The run's policy (its mean action, or sampled actions) on ``task`` (the episode's own end
    decides success, whatever env the run trained in), seeds FINAL_SEED.."""
    from dataclasses import replace

    from robrew.metrics.rollouts import run_episodes, success_rate
    from robrew.runs import TaskConfig, load_obs_normalizer, load_run_policy, make_run_env, policy_fn, resolve_task

    run = load_run_policy(run_dir)
    cfg = replace(run.cfg, task=TaskConfig(task))
    spec = resolve_task(cfg)
    act = policy_fn(run.learner, load_obs_normalizer(run.checkpoint), deterministic=deterministic)
    run.learner.set_random_seed(FINAL_SEED)
    eps = run_episodes(lambda r: make_run_env(spec, cfg, r), act, episodes, FINAL_SEED)
    return {"success_rate": success_rate([e.success for e in eps])}


def steps_to(curve: list, target: float) -> float | None:
    """The first evaluated step count with success >= target (None if never)."""
    return next((int(t) for t, s, _ in curve if s >= target), None)


def report(results: list[dict], out: Path) -> None:
    from robrew.plotting import success_curves

    print(
        f"\n{'row':<10} {'seed':>4} {'final':>6} {'95% CI':>13} {'sampled':>8} {'steps to 95%':>13} "
        f"{'steps/s':>8} {'wall':>7} {'spearman':>8}"
    )
    for r in results:
        f, to95 = r["final"], steps_to(r["curve"], 0.95)
        sps = f"{r['steps_per_s']:.0f}" if r.get("steps_per_s") else "-"
        rho = f"{r['spearman']:.2f}" if r.get("spearman") is not None else "-"
        sampled = f"{r['final_sampled']['mean']:.0%}" if r.get("final_sampled") else "-"
        print(
            f"{r['row']:<10} {r['seed']:>4} {f['mean']:>6.0%} [{f['low']:>4.0%}, {f['high']:>4.0%}] {sampled:>8} "
            f"{to95 if to95 is not None else 'never':>13} {sps:>8} {r['wall_s']:>6.0f}s {rho:>8}"
        )
    for r in results:
        print(f"curve {r['row']} seed {r['seed']}: " + ", ".join(f"{int(t)}:{s:.0%}" for t, s, _ in r["curve"]))
    levels = {f"base (seed {r['seed']})": r["final"]["mean"] for r in results if r["row"] == "base"}
    curves = {
        f"{r['row']} (seed {r['seed']})": tuple(zip(*[(t, s) for t, s, _ in r["curve"]]))
        for r in results
        if r["row"] != "base"
    }
    success_curves(out / "curves.png", curves, levels)
    print(f"wrote {out / 'curves.png'} and {out / 'results.json'}")


def initial_std(cfg) -> float:
    """The residual PPO learner's initial exploration std, exp(log_std_init) (the family's -1.5 if unset)."""
    log_std = cfg.algo.params.log_std_init
    return float(np.exp(log_std if log_std is not None else -1.5))


def probe_env(spec, base, cfg, scale: float):
    """One env acting through ``base`` with a residual of ``scale`` that the measurement modes step
    themselves, one env step per call (no base action in the observation, no hold)."""
    from dataclasses import replace

    from robrew.agents.residual import ResidualAction
    from robrew.env_factory import make_env

    return ResidualAction(make_env(spec), base, replace(cfg.algo.residual, scale=scale, observe_base=False, hold=1))


def stall_reach(args) -> list[dict]:
    """Success from ``args.stall_reach``'s stall states under three kinds of correction, per scale."""

    from robrew.runs import load_base_policy, load_run_config, resolve_task

    run = Path(args.stall_reach)
    cfg, record = load_run_config(run), json.loads((run / "hard_starts.json").read_text())
    if record.get("start") != "stall":
        raise SystemExit(f"bench_finetune: error: {run} has no stall hard starts (hard_starts.json start=stall)")
    spec, base = resolve_task(cfg), load_base_policy(cfg)
    states = list(zip(record["failed_seeds"], record["start_steps"]))[: args.states]
    rng, dim, noise_std = np.random.default_rng(0), base.act_dim, initial_std(cfg)

    def succeeds(env, seed: int, start: int, correction) -> bool:
        env.reset(seed=seed)
        for t in range(spec.horizon):
            c = correction(t - start) if t >= start else np.zeros(dim, np.float32)
            _, _, terminated, truncated, info = env.step(c)
            if info.get("is_success"):
                return True
            if terminated or truncated:
                return False
        return False

    rows = []
    for scale in args.reach_scales:
        env = probe_env(spec, base, cfg, scale)
        zero = sum(succeeds(env, s, k, lambda i: np.zeros(dim, np.float32)) for s, k in states)
        held = np.zeros((len(states), args.tries), bool)
        for j, (seed, start) in enumerate(states):
            for n in range(args.tries):
                c = rng.uniform(-1, 1, dim).astype(np.float32)
                held[j, n] = succeeds(env, seed, start, lambda i, c=c: c if i < args.hold else 0 * c)
        iid = [
            succeeds(env, s, k, lambda i: rng.normal(0, noise_std, dim).astype(np.float32))
            for s, k in states
            for _ in range(args.tries)
        ]
        env.close()
        rows.append(
            {
                "scale": scale,
                "states": len(states),
                "base": zero / len(states),
                "held_any": float(held.any(axis=1).mean()),
                "held": float(held.mean()),
                "iid": float(np.mean(iid)),
                "iid_std": noise_std,
            }
        )
        r = rows[-1]
        print(
            f"scale {scale}: from {len(states)} stall states, base alone {r['base']:.0%}; a constant correction "
            f"held {args.hold} steps {r['held']:.1%} of {args.tries} tries (>= 1 success on {r['held_any']:.0%} "
            f"of the states); iid N(0, {noise_std:.2f}) corrections {r['iid']:.1%}",
            flush=True,
        )
    return rows


def outcome_spread(args) -> list[dict]:
    """How often exploration noise changes an episode's outcome: per scale in ``args.reach_scales``
    and per hold (1: iid per step, as PPO explores; ``args.hold``: each draw held that many steps),
    ``args.tries`` noisy episodes on each of ``args.states`` layouts against the base alone there."""
    from dataclasses import replace

    from robrew.runs import TaskConfig, finetune_config, load_base_policy, resolve_task

    cfg = finetune_config(row_config("sparse", args, 0), args.rabc)
    spec, base = resolve_task(replace(cfg, task=TaskConfig(f"{args.task}_sparse"))), load_base_policy(cfg)
    rng, dim, noise_std = np.random.default_rng(0), base.act_dim, initial_std(cfg)
    seeds = range(EVAL_SEED, EVAL_SEED + args.states)

    def success(env, seed: int, hold: int, noise: float) -> bool:
        env.reset(seed=seed)
        c = np.zeros(dim, np.float32)
        for t in range(spec.horizon):
            if noise and t % hold == 0:
                c = np.clip(rng.normal(0, noise, dim), -1, 1).astype(np.float32)  # as SB3 clips its samples
            _, _, terminated, truncated, info = env.step(c)
            if terminated or truncated:
                break
        return bool(info.get("is_success"))

    rows = []
    for scale in args.reach_scales:
        env = probe_env(spec, base, cfg, scale)
        alone = np.array([success(env, s, 1, 0.0) for s in seeds])
        for hold in (1, args.hold):
            noisy = np.array([[success(env, s, hold, noise_std) for _ in range(args.tries)] for s in seeds])
            up, down = (noisy & ~alone[:, None]).sum(), (~noisy & alone[:, None]).sum()
            rows.append(
                {
                    "scale": scale,
                    "hold": hold,
                    "layouts": args.states,
                    "base": float(alone.mean()),
                    "noisy": float(noisy.mean()),
                    "flipped": float((up + down) / noisy.size),
                    "fail_to_success": f"{up} of {(~alone).sum() * args.tries}",
                    "success_to_fail": f"{down} of {alone.sum() * args.tries}",
                }
            )
            r = rows[-1]
            print(
                f"scale {scale}, noise N(0, {noise_std:.2f}) held {hold} step(s): base {r['base']:.0%}, noisy "
                f"{r['noisy']:.0%}; outcome changed in {r['flipped']:.1%} of episodes (failure -> success "
                f"{r['fail_to_success']}, success -> failure {r['success_to_fail']})",
                flush=True,
            )
        env.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rabc", default="runs/rabc", help="a robrew-rabc output directory (its BC policies)")
    parser.add_argument("--task", default=None, help="default: the directory's task")
    parser.add_argument("--policy", default="rabc", help="which of the directory's BC policies is the base")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=ROWS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=3_000_000, help="env steps of each residual PPO run")
    parser.add_argument("--sac-steps", type=int, default=20_000, help="env steps of the residual SAC row")
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--scale", type=float, default=0.1, help="residual PPO's largest correction")
    parser.add_argument("--log-std", type=float, default=None, help="residual PPO's initial log std (default: -1.5)")
    parser.add_argument("--gamma", type=float, default=None, help="residual PPO's discount (default: 0.99)")
    parser.add_argument("--train-task", default=None, help="the task the rows train in (default: <task>_sparse)")
    parser.add_argument("--sde", action="store_true", help="residual PPO explores with gSDE (state-dependent noise)")
    parser.add_argument(
        "--residual-hold", type=int, default=1, help="residual PPO decides every K env steps (algo.residual.hold)"
    )
    parser.add_argument("--n-steps", type=int, default=None, help="residual PPO's learner steps per env per update")
    parser.add_argument(
        "--hard-starts", type=float, default=0.0, help="share of training episodes started where the base fails"
    )
    parser.add_argument("--probe", type=int, default=500, help="--hard-starts: base episodes probed for failures")
    parser.add_argument(
        "--hard-start-at",
        default="reset",
        choices=["reset", "stall"],
        help="--hard-starts: hand over at the layout's reset, or --lead steps before the base's stall",
    )
    parser.add_argument("--lead", type=int, default=5, help="--hard-start-at stall: steps before the stall")
    parser.add_argument("--evals", type=int, default=10, help="evaluations along each run")
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--final-episodes", type=int, default=200)
    parser.add_argument(
        "--speed-steps", type=int, default=20_480, help="first: plain vs residual PPO env steps/s (0: skip)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (each on one torch thread)")
    parser.add_argument("--out", default="runs/bench_finetune")
    parser.add_argument("--stall-reach", default=None, help="a run with stall hard starts: measure, do not train")
    parser.add_argument("--states", type=int, default=60, help="--stall-reach: stall states used")
    parser.add_argument("--tries", type=int, default=8, help="--stall-reach: corrections tried per state")
    parser.add_argument("--hold", type=int, default=15, help="--stall-reach: steps a constant correction is held")
    parser.add_argument("--reach-scales", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument(
        "--outcome-spread", action="store_true", help="measure how often exploration noise changes outcomes"
    )
    args = parser.parse_args()
    if args.residual_hold < 1:
        parser.error(f"--residual-hold must be >= 1 (env steps per decision), got {args.residual_hold}")
    out = Path(args.out)
    if args.stall_reach:  # reads a fine-tuning run, not --rabc
        rows = stall_reach(args)
        out.mkdir(parents=True, exist_ok=True)
        (out / "stall_reach.json").write_text(json.dumps(rows, indent=1))
        return
    if args.task is None:
        args.task = json.loads((Path(args.rabc) / "results.json").read_text())["config"]["task"]
    if args.outcome_spread:
        rows = outcome_spread(args)
        out.mkdir(parents=True, exist_ok=True)
        (out / "outcome_spread.json").write_text(json.dumps(rows, indent=1))
        return
    print(f"torch threads per run: {1 if args.jobs > 1 else usable_cores()}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(row, seed) for seed in range(args.first_seed, args.first_seed + args.seeds) for row in args.rows]
    print(
        f"bench_finetune: {args.rabc} ({args.task}), rows {args.rows}, {args.seeds} seed(s), {args.steps} steps, "
        f"{args.jobs} job(s), torch threads {'1' if args.jobs > 1 else 'default'}",
        flush=True,
    )
    with ProcessPoolExecutor(args.jobs) as pool:  # torch runs only in workers: a fork after it can hang
        if args.speed_steps:
            pool.submit(speed, args).result()
        results = list(pool.map(run_row, *zip(*jobs), [args] * len(jobs)))
    (out / "results.json").write_text(json.dumps(results, indent=1))
    report(results, out)


if __name__ == "__main__":
    main()
