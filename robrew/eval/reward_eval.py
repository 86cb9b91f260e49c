"""Which reward model, with which prompt and α, can be trusted for a task: measured.

For each task and each model variant (an α, a prompt set, or one saved model), score the
labelled rollouts of :mod:`robrew.eval.labelled_rollouts` (plus, given trained runs, episodes
of their policies: the states an optimised policy actually visits) and report, against ground truth:
Pearson ρ and the EPIC-style distance √((1-ρ)/2) between the per-frame reward and the
per-frame success label, VOC (reward vs time on sequences that reach the goal), success
ROC-AUC (per-sequence max reward), the mean reward per source, and the reward landscape
(reward along an interpolation from a non-goal to a goal state).

Example:
    >>> variants = clip_variants(alphas=[0.0, 0.5, 1.0], prompt_sets=[["a humanoid robot kneeling"]])
    >>> result = evaluate_reward(clip_factory(pretrained="path/to/clip"), variants, ["humanoid_kneeling"], "out")
    >>> result["rows"][0]["pearson"]
    >>> evaluate_reward(make_model, variants, ["humanoid_kneeling"], "out", policy_runs=["runs/kneeling"])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robrew.eval.labelled_rollouts import LabelledSequence, labelled_rollouts, policy_rollouts
from robrew.metrics.reward import epic_distance, pearson, success_auc, voc
from robrew.plotting import figure
from robrew.rewards.base import RewardModel
from robrew.taskspec import TaskSpec, load_task

#: Sources whose sequences move towards the goal (VOC is measured on those that reach it).
GOAL_DIRECTED = ("expert", "near")


@dataclass(frozen=True)
class Variant:
    """One reward-model setting to evaluate: a label and constructor overrides."""

    label: str
    kwargs: dict = field(default_factory=dict)


def clip_variants(alphas: Sequence[float], prompt_sets: Sequence[Sequence[str]] | None = None) -> list[Variant]:
    """The α x prompt-set grid (prompt set ``None``: the task's own prompts / instructions)."""
    sets: list = list(prompt_sets) if prompt_sets else [None]
    out = []
    for j, prompts in enumerate(sets):
        for a in alphas:
            kw = {"alpha": float(a)} if prompts is None else {"alpha": float(a), "goal_prompts": list(prompts)}
            label = f"alpha={a:g}" + ("" if prompts is None else f", prompts#{j}")
            out.append(Variant(label, kw))
    return out


def score_sequences(
    model: RewardModel, seqs: Sequence[LabelledSequence], use_instructions: bool = True
) -> list[np.ndarray]:
    """The model's reward for every frame of every sequence (one batched call per sequence)."""
    return [
        model.score_episode(
            frames=s.frames if model.needs_frames else None,
            obs=model.flatten_obs(s.obs) if model.needs_obs else None,
            instructions=s.instruction if use_instructions and s.instruction else None,
        )
        for s in seqs
    ]


def reward_metrics(scores: Sequence[np.ndarray], seqs: Sequence[LabelledSequence]) -> dict:
    """Pearson, EPIC distance, VOC, success AUC and mean reward per source."""
    r = np.concatenate(scores)
    y = np.concatenate([s.labels for s in seqs])
    rho = pearson(r, y)
    reaching = [sc for sc, s in zip(scores, seqs) if s.source in GOAL_DIRECTED and s.success]
    out = {
        "pearson": rho,
        "epic_distance": epic_distance(rho) if np.isfinite(rho) else float("nan"),
        "voc": voc(reaching) if reaching else float("nan"),
        "success_auc": success_auc([float(np.max(sc)) for sc in scores], [s.success for s in seqs]),
        "frames": int(len(r)),
        "success_fraction": float(np.mean([s.success for s in seqs])),
    }
    on_policy = [i for i, s in enumerate(seqs) if s.source == "policy"]
    if on_policy:  # the states an optimised policy visits: where a reward gets exploited
        out["pearson_policy"] = pearson(
            np.concatenate([scores[i] for i in on_policy]), np.concatenate([seqs[i].labels for i in on_policy])
        )
    for source in sorted({s.source for s in seqs}):
        out[f"mean_reward_{source}"] = float(
            np.mean(np.concatenate([sc for sc, s in zip(scores, seqs) if s.source == source]))
        )
    return out


def _plot_landscape(task: str, curves: dict[str, np.ndarray], labels: np.ndarray, path: Path) -> Path:
    with figure(path, dpi=90, figsize=(5, 3)) as (fig, ax):
        x = np.linspace(0, 1, len(labels))
        ax.fill_between(
            x,
            0,
            1,
            where=labels > 0.5,
            color="#cfc",
            transform=ax.get_xaxis_transform(),
            label="goal holds (ground truth)",
        )
        for name, c in curves.items():
            c = np.asarray(c, np.float64)
            span = np.ptp(c)
            ax.plot(x, (c - c.min()) / span if span > 0 else c * 0, label=name)
        ax.set_xlabel("from a non-goal state (0) to the goal (1)")
        ax.set_ylabel("reward (min-max per curve)")
        ax.set_title(f"reward landscape: {task}", fontsize=10)
        ax.legend(fontsize=6)
    return path


def evaluate_reward(
    make_model: Callable[[TaskSpec, dict], RewardModel],
    variants: Sequence[Variant],
    tasks: Sequence[str],
    out_dir: str | Path,
    per_source: int = 4,
    seed: int = 0,
    policy_runs: Sequence[str | Path] = (),
    policy_episodes: int | None = None,
) -> dict:
    """Scores every variant on every task's labelled rollouts; writes ``reward_eval.json``,
    one landscape plot per task and ``reward_eval.html`` to ``out_dir``.

    Args:
        make_model: ``(task spec, variant kwargs) -> reward model``.
        variants: Settings to compare (at least one).
        tasks: Task names or paths.
        out_dir: Output directory.
        per_source: Sequences per source (expert/noisy/random, or near/away).
        seed: Seed of the rollouts (the same rollouts for every variant).
        policy_runs: Trained run directories; each adds ``policy_episodes`` (default
            ``per_source``) episodes of its policy to its task's sequences (source ``policy``).
            Every run's task must be one of ``tasks``.
        policy_episodes: Episodes per run.

    Raises:
        ValueError: no variant or task, a run that is not a run, or whose task is not in ``tasks``
            (all checked before anything is rolled out or written).
    """
    from robrew.eval.report import write_report
    from robrew.io import write_json_atomic

    if not variants or not tasks:
        raise ValueError("evaluate_reward needs at least one variant and one task")
    specs = [load_task(task) for task in tasks]
    runs_of = _runs_by_task(policy_runs, [s.name for s in specs])
    n_policy = per_source if policy_episodes is None else policy_episodes
    if n_policy <= 0:
        raise ValueError(f"policy_episodes must be positive, got {n_policy}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, plots = [], []
    for spec in specs:
        models = {v.label: make_model(spec, dict(v.kwargs)) for v in variants}
        need_frames = any(m.needs_frames for m in models.values())
        seqs = labelled_rollouts(spec, per_source, seed=seed, frames=need_frames)
        for run in runs_of.get(spec.name, []):
            seqs += policy_rollouts(run, n_policy, seed=30_000 + seed, frames=need_frames)[1]
        landscape_seq = next((s for s in seqs if s.source in GOAL_DIRECTED and s.success), seqs[0])
        curves = {}
        for v in variants:
            model = models[v.label]
            use_instructions = "goal_prompts" not in v.kwargs  # explicit prompts replace the instruction
            scores = score_sequences(model, seqs, use_instructions)
            rows.append({"task": spec.name, "variant": v.label, **reward_metrics(scores, seqs)})
            curves[v.label] = scores[seqs.index(landscape_seq)]
        plots.append(_plot_landscape(spec.name, curves, landscape_seq.labels, out / f"landscape_{spec.name}.png"))
    result = {
        "rows": rows,
        "per_source": per_source,
        "seed": seed,
        "tasks": list(tasks),
        "variants": [v.label for v in variants],
        "policy_runs": {task: [str(r) for r in runs] for task, runs in runs_of.items()},
    }
    write_json_atomic(out / "reward_eval.json", result)
    summary = {
        f"{r['task']} | {r['variant']}": {
            k: round(v, 3) if isinstance(v, float) else v for k, v in r.items() if k not in ("task", "variant")
        }
        for r in rows
    }
    result["report"] = str(write_report(out / "reward_eval.html", "Reward model vs ground truth", summary, plots, []))
    return result


def _runs_by_task(runs: Sequence[str | Path], tasks: Sequence[str]) -> dict[str, list[Path]]:
    """Each run directory under its task's name; one line for a run that is not one, or whose task
    is not being evaluated."""
    from robrew.runs import load_run_config, resolve_checkpoint, resolve_task

    out: dict[str, list[Path]] = {}
    for run in runs:
        run_dir, _ = resolve_checkpoint(run)
        name = resolve_task(load_run_config(run_dir)).name
        if name not in tasks:
            raise ValueError(f"policy run {run} was trained on {name!r}, which is not among the tasks {list(tasks)}")
        out.setdefault(name, []).append(Path(run))
    return out


def format_rows(rows: Sequence[dict]) -> str:
    """The stdout table: one line per task x variant."""
    tw = max([22, *(len(r["task"]) + 2 for r in rows)])
    vw = max([24, *(len(r["variant"]) + 2 for r in rows)])
    policy = any("pearson_policy" in r for r in rows)
    head = f"{'task':<{tw}}{'variant':<{vw}}{'pearson':>8}{'EPIC':>7}{'VOC':>7}{'AUC':>7}" + (
        f"{'pearson(policy)':>16}" if policy else ""
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['task']:<{tw}}{r['variant']:<{vw}}{r['pearson']:>8.3f}{r['epic_distance']:>7.3f}{r['voc']:>7.3f}{r['success_auc']:>7.3f}"
            + (f"{r.get('pearson_policy', float('nan')):>16.3f}" if policy else "")
        )
    return "\n".join(lines)
