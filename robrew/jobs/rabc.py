"""The main job as a library function: progress reward from annotated demos, then BC vs reward-aligned BC
(``robrew-rabc`` is its command line, :mod:`robrew.apps.rabc`).

Steps, top to bottom: collect mixed-quality scripted demonstrations (Minari) -> train the
stage-aware progress model on them -> train plain BC, RA-BC (and optionally return-weighted
BC) on the *same* demos and policy network -> evaluate every policy on held-out episodes by
the environment's ground-truth success -> write ``results.json``, the progress model, the
policies, plots, videos and one HTML report.

Usage:
    robrew-rabc                                           # defaults, ~75 s on 2 CPU cores
    robrew-rabc episodes=300 'methods=[none,rabc,return]' seed=1

Example:
    >>> result = run_rabc_experiment(RabcExperimentConfig(episodes=12, eval_episodes=4))
    >>> result["policies"]["rabc"]["success_rate"]["mean"], result["progress_model"]["voc_clean"]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from robrew.plotting import figure
from robrew.training.bc import BCConfig, Weighting
from robrew.training.progress import ProgressTrainConfig

#: Display names of the BC weightings.
METHOD_NAMES = {"none": "BC", "rabc": "RA-BC", "return": "return-weighted BC", "success": "success-filtered BC"}


@dataclass
class RabcExperimentConfig:
    """Settings of one BC-vs-RA-BC run (defaults: the main job, ~75 s on 2 CPU cores).

    ``progress`` and ``bc`` are the progress-model and BC settings themselves (every field
    settable: ``progress.window=4 progress.rewind=0.25 bc.chunk=8 bc.kappa=0.02``); the job's
    ``seed`` seeds both, and ``methods`` sets ``bc.weighting`` for each policy it trains.
    """

    task: str = "tabletop_pick_place"
    episodes: int = 0  # demonstrations (about a third clean, sloppy, failing); 0: job_episodes(task)
    image_size: int = 64  # frames stored at the model's resolution
    frames: bool | None = None  # store frames with the demos; None: only when the progress model reads frames
    data_dir: str | None = None  # reuse a collected dataset instead of collecting
    failure_marks: bool = True  # false: drop the demos' frame-level failure marks (episode-level success flags only)
    progress: ProgressTrainConfig = field(default_factory=lambda: ProgressTrainConfig(steps=3000))
    bc: BCConfig = field(
        default_factory=lambda: BCConfig(steps=4000, chunk=5, kappa=0.01, drop_noops=True, drop_failure_tails=True)
    )
    methods: list[Weighting] = field(default_factory=lambda: [Weighting.none, Weighting.rabc])
    eval_episodes: int = 50
    videos: int = 1  # per method
    seed: int = 0
    out_dir: str = "runs/rabc"
    torch_threads: int = 0  # 0: the usable cores; N: at most N (1 when other work shares the CPU)
    collect_workers: int = 0  # processes recording the demos; 0: the usable cores (same dataset whatever the number)


#: Demonstrations the job records for a task whose spec names no ``demos``.
DEFAULT_EPISODES = 150


def job_episodes(task: str, episodes: int = 0) -> int:
    """The number of demonstrations the job records: ``episodes`` when set (not 0), else the task's
    ``demos`` (``tasks/<task>.yaml``; push needs 450 before its progress model tells a push to the
    wrong pad from one to the right pad), else :data:`DEFAULT_EPISODES`.

    Example:
        >>> job_episodes("tabletop_pick_place"), job_episodes("tabletop_push"), job_episodes("tabletop_push", 60)
        (150, 450, 60)
    """
    from robrew.taskspec import load_task

    return int(episodes) if episodes else load_task(task).demos or DEFAULT_EPISODES


def _plot_progress(model, demos, path: Path, frames_per_stage: np.ndarray | None = None) -> Path:
    from robrew.training.progress import label_demos, predict_episode

    prior = model.prior.cpu().numpy()
    size = (4 * len(demos), 3)
    with figure(path, 1, len(demos), dpi=90, figsize=size, squeeze=False) as (fig, axes):
        for ax, d in zip(axes[0], demos):
            ax.plot(label_demos([d], prior, frames_per_stage)[0].progress, "k--", label="label")
            ax.plot(predict_episode(model, d), label="predicted")
            ax.set_title(f"{d.quality}, {'success' if d.success else 'failure'}", fontsize=10)
            ax.set_xlabel("frame")
            ax.set_ylim(-0.05, 1.05)
        axes[0][0].set_ylabel("progress")
        axes[0][0].legend(fontsize=7)
    return path


def _plot_success(policies: dict, path: Path) -> Path:
    names = list(policies)
    rates = [policies[n]["success_rate"] for n in names]
    mean = np.array([r["mean"] for r in rates])
    # Rounded interval ends can sit a hair inside the mean at 0% / 100%: an error bar is never negative.
    err = np.clip([[r["mean"] - r["low"] for r in rates], [r["high"] - r["mean"] for r in rates]], 0.0, None)
    colors = ["#999", "#2a7", "#27a"][: len(names)]
    with figure(path, dpi=90, figsize=(4, 3)) as (fig, ax):
        ax.bar([METHOD_NAMES[n] for n in names], mean, yerr=err, capsize=4, color=colors)
        ax.set_ylabel("ground-truth success (95% CI)")
        ax.set_ylim(0, 1)
    return path


def _processes(n: int) -> str:
    return "1 process" if n == 1 else f"{n} processes"


def run_rabc_experiment(cfg: RabcExperimentConfig, on_phase: Callable[[str], None] | None = None) -> dict:
    """Runs the whole job; returns (and writes to ``<out_dir>/results.json``) the results.
    ``on_phase`` gets one line per finished phase (its time and what it made), e.g. ``print``.

    Returns:
        ``{"dataset": {...}, "progress_model": {voc_clean, voc_reversed, success_auc, ...},
        "policies": {method: {success_rate, mean_weight, final_loss}}, "report": path, ...}``
    """
    from robrew.data.collect import collect_demos
    from robrew.data.demos import check_demos_fit, load_demos
    from robrew.env_factory import make_env
    from robrew.eval.media import overlay_trace, write_mp4
    from robrew.eval.report import write_report
    from robrew.io import write_json_atomic
    from robrew.metrics.rollouts import run_episodes, success_rate
    from robrew.rewards import save_reward_model
    from robrew.rewards.progress.parts import OBS_ENCODERS, Encoder
    from robrew.runs import ConfigError, RabcOutput
    from robrew.threads import set_torch_threads, thread_count
    from robrew.training.bc import WEIGHTINGS, save_policy, train_bc
    from robrew.training.progress import fit_progress_model, split_demos

    bad = [m for m in cfg.methods if m not in WEIGHTINGS]
    if bad or not cfg.methods:
        raise ConfigError(f"methods must be a non-empty list from {WEIGHTINGS}, got {list(cfg.methods)}")
    if cfg.episodes < 0 or 0 < cfg.episodes < 4 or cfg.eval_episodes <= 0:
        raise ConfigError("episodes must be >= 4 (0: the task's default) and eval_episodes positive")
    if cfg.collect_workers < 0:
        raise ConfigError(f"collect_workers must be >= 0 (0: the usable cores), got {cfg.collect_workers}")
    try:
        thread_count(cfg.torch_threads)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if cfg.progress.members != 1:
        raise ConfigError(
            f"progress.members={cfg.progress.members}: RA-BC weights samples by one model's stages and progress; "
            "train ensembles for RL rewards with robrew-train-reward --members"
        )
    episodes = job_episodes(cfg.task, cfg.episodes)
    set_torch_threads(cfg.torch_threads)
    workers = thread_count(cfg.collect_workers)

    def phase(name: str, seconds: float, what: str) -> None:
        if on_phase is not None:
            on_phase(f"  {name:<19}{seconds:5.0f} s  {what}")

    layout = RabcOutput(Path(cfg.out_dir))
    out = layout.root
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if cfg.data_dir:  # a dataset of the user's: it must fit the task's env before anything is written
        data = Path(cfg.data_dir)
        demos = load_demos(data)
        probe = make_env(cfg.task)
        try:
            check_demos_fit(demos, probe.observation_space, probe.action_space, f"task {cfg.task}")
        finally:
            probe.close()
    out.mkdir(parents=True, exist_ok=True)
    if not cfg.data_dir:  # the job's own data: a rerun replaces it (swapped in only once complete)
        data = collect_demos(
            cfg.task,
            layout.data,
            episodes,
            seed=cfg.seed,
            image_size=cfg.image_size,
            overwrite=True,
            frames=cfg.frames if cfg.frames is not None else Encoder(cfg.progress.encoder) not in OBS_ENCODERS,
            workers=workers,
        )
        demos = load_demos(data)
    if not cfg.failure_marks:  # as real datasets are: which episodes failed, not where
        demos = [replace(d, off_task_from=None) for d in demos]
    timings["collect_s"] = time.perf_counter() - t0
    phase(
        "demos",
        timings["collect_s"],
        f"{len(demos)} episodes, {sum(d.success for d in demos)} successful"
        + ("" if cfg.data_dir else f", recorded in {_processes(workers)}"),
    )

    t0 = time.perf_counter()
    pcfg = replace(cfg.progress, seed=cfg.seed)
    progress, preport = fit_progress_model(demos, pcfg)
    save_reward_model(progress, layout.progress_model)
    write_json_atomic(layout.progress_model / "report.json", preport)
    timings["progress_model_s"] = time.perf_counter() - t0
    phase(
        "progress model",
        timings["progress_model_s"],
        f"{pcfg.steps} steps, held-out VOC {preport.get('voc_clean', float('nan')):.3f}",
    )

    policies, curves, videos = {}, {}, []
    env_fn = lambda render: make_env(cfg.task, render_mode="rgb_array" if render else None)  # noqa: E731
    for method in cfg.methods:
        t0 = time.perf_counter()
        bcfg = replace(cfg.bc, weighting=method, seed=cfg.seed)
        policy, report = train_bc(demos, bcfg, progress_model=progress if method == "rabc" else None)
        save_policy(policy, layout.policy(method), extra={"task": cfg.task, "weighting": method})
        eps = run_episodes(
            env_fn,
            policy.actor(bcfg.ensemble_decay),
            cfg.eval_episodes,
            10_000 + cfg.seed,
            reward_model=progress,
            record=cfg.videos,
        )
        for i, ep in enumerate(eps[: cfg.videos]):
            frames = overlay_trace(ep.frames, {"predicted progress": ep.model_rewards})
            videos.append(write_mp4(out / f"{method}_episode{i}.mp4", frames))
        curves[method] = report["losses"]
        policies[method] = {
            "success_rate": success_rate([e.success for e in eps]),
            "mean_weight": report["mean_weight"],
            "final_loss": float(np.mean(report["losses"][-100:])),
            "final_progress": float(np.mean([e.model_rewards[-1] for e in eps])),
        }
        timings[f"{method}_s"] = time.perf_counter() - t0
        sr = policies[method]["success_rate"]
        phase(
            METHOD_NAMES[method],
            timings[f"{method}_s"],
            f"{bcfg.steps} steps, then {cfg.eval_episodes} episodes: {sr['mean']:.0%} success",
        )

    metrics = {
        k: preport[k]
        for k in ("voc_clean", "voc_reversed", "success_auc", "stage_accuracy", "progress_mae", "completed_jitter")
        if k in preport
    }
    result = {
        "config": asdict(cfg),
        "dataset": {
            "path": str(data),
            "episodes": len(demos),
            "by_quality": {q: sum(d.quality == q for d in demos) for q in sorted({d.quality for d in demos})},
            "success_fraction": float(np.mean([d.success for d in demos])),
        },
        "progress_model": {**metrics, "path": str(layout.progress_model)},
        "policies": policies,
        "timings_s": timings,
    }
    write_json_atomic(layout.results, result)  # before any plot: a plot never loses the results
    _, held_out = split_demos(demos, pcfg.val_fraction, pcfg.seed)
    qualities = list(dict.fromkeys(d.quality for d in held_out))  # one held-out demo of each quality, up to 3
    shown = [next(d for d in held_out if d.quality == q) for q in qualities[:3]]
    plots = [_plot_success(policies, out / "success_rates.png")]
    if shown:
        frames_per_stage = np.asarray(preport["frames_per_stage"])
        plots.insert(0, _plot_progress(progress, shown, out / "progress_on_held_out_demos.png", frames_per_stage))
    summary = {
        "task": cfg.task,
        "demonstrations": result["dataset"]["by_quality"],
        **{f"progress {k}": round(v, 3) for k, v in metrics.items()},
    }
    for m, p in policies.items():
        sr = p["success_rate"]
        summary[f"{METHOD_NAMES[m]} success"] = f"{sr['mean']:.0%} [{sr['low']:.0%}, {sr['high']:.0%}] (n={sr['n']})"
        summary[f"{METHOD_NAMES[m]} mean weight"] = round(p["mean_weight"], 3)
    report_path = write_report(layout.report, f"BC vs RA-BC on {cfg.task}", summary, plots, videos)
    result["report"] = str(report_path)
    write_json_atomic(layout.results, result)
    return result


def banner(cfg: RabcExperimentConfig) -> str:
    """The job's first line: what it will do (the demos it collects, or the dataset it reuses)."""
    from robrew.threads import thread_count

    source = (
        f"demos from {cfg.data_dir}"
        if cfg.data_dir
        else f"{job_episodes(cfg.task, cfg.episodes)} mixed demos of {cfg.task}"
    )
    threads = thread_count(max(cfg.torch_threads, 0))  # a negative setting is refused when the job runs
    return (
        f"robrew main job: {source} -> progress model -> {' / '.join(map(str, cfg.methods))} BC -> "
        f"{cfg.eval_episodes} held-out episodes each on {cfg.task} (CPU, {threads} torch threads)"
    )


def format_table(result: dict) -> str:
    """The main job's printout: one row per policy, then the progress model's metrics."""
    pm = result["progress_model"]
    lines = [f"{'policy':<20}{'success':>9}{'95% CI':>14}{'mean weight':>13}", "-" * 56]
    for m, p in result["policies"].items():
        sr = p["success_rate"]
        ci = f"[{sr['low']:.0%}, {sr['high']:.0%}]"
        lines.append(f"{METHOD_NAMES[m]:<20}{sr['mean']:>9.0%}{ci:>14}{p['mean_weight']:>13.2f}")
    lines.append(
        f"progress model (held-out demos): VOC {pm.get('voc_clean', float('nan')):.3f}, reversed "
        f"{pm.get('voc_reversed', float('nan')):.3f}, success AUC {pm['success_auc']:.3f}, stage accuracy "
        f"{pm.get('stage_accuracy', float('nan')):.3f}, |Δφ| after completion "
        f"{pm.get('completed_jitter', float('nan')):.3f}"
    )
    return "\n".join(lines)
