"""Labelled rollouts for judging a reward model against ground truth.

Every sequence carries frames, observations, the instruction and per-step ground-truth
labels from the environment (never from a reward model):

- tabletop tasks: the scripted expert (``expert``), a noisy expert (``noisy``) and a
  uniformly random policy (``random``); the label of a step is ``info["is_success"]``;
- humanoid poses: static poses set from joint configurations, each sequence an
  interpolation from the neutral stance to a configuration sampled around the target
  preset (``near``: jitter of a few degrees) or around another pose's preset (``away``);
  the label of a frame is the env's pose detector (score >= 0.5) for the target pose;
- any task, from a trained run (:func:`policy_rollouts`): episodes of the run's policy
  (``policy``), i.e. the states a policy optimised for the task actually visits, labelled per
  step by the env (:func:`goal_label`).

The interpolation kind doubles as the reward *landscape*: reward along an interpolation
from a non-goal state to a goal state.

Example:
    >>> seqs = labelled_rollouts("tabletop_reach", per_source=3, seed=0, frames=True)
    >>> seqs[0].source, seqs[0].labels[-1]
    >>> spec, seqs = policy_rollouts("runs/bench_humanoid/runs/kneeling", episodes=8)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robrew.taskspec import TaskSpec, load_task


@dataclass
class LabelledSequence:
    """One rollout or interpolation with ground-truth labels per frame."""

    source: str  # expert | noisy | random | near | away | policy
    frames: np.ndarray | None  # uint8 [T, H, W, 3]
    obs: np.ndarray | dict[str, np.ndarray]  # float32 [T, D]; Dict observations: {key: float32 [T, ...]}
    instruction: str | None
    labels: np.ndarray  # float32 [T], 1 where the goal holds (ground truth)
    success: bool  # the episode's ground-truth outcome

    def __len__(self) -> int:
        return len(self.labels)


def stack_obs(observations: list) -> np.ndarray | dict[str, np.ndarray]:
    """Per-step observations -> float32 [T, D], or {key: float32 [T, ...]} for Dict observations
    (what :meth:`RewardModel.flatten_obs` reads through the model's ``obs_keys``)."""
    if observations and isinstance(observations[0], dict):
        return {k: np.stack([np.asarray(o[k], np.float32) for o in observations]) for k in observations[0]}
    return np.stack([np.asarray(o, np.float32) for o in observations])


def labelled_rollouts(
    task: TaskSpec | str, per_source: int, seed: int = 0, frames: bool = True, steps: int = 12, jitter_deg: float = 6.0
) -> list[LabelledSequence]:
    """``per_source`` sequences of each source for ``task`` (tabletop or humanoid pose)."""
    spec = load_task(task) if isinstance(task, str) else task
    if per_source <= 0:
        raise ValueError(f"per_source must be positive, got {per_source}")
    if "Tabletop" in spec.env_id:
        return _tabletop(spec, per_source, seed, frames)
    if "HumanoidPose" in spec.env_id:
        return _humanoid(spec, per_source, seed, frames, steps, jitter_deg)
    raise ValueError(
        f"task {spec.name!r}: labelled rollouts exist for tabletop and humanoid-pose tasks, not {spec.env_id}"
    )


def _tabletop(spec: TaskSpec, per_source: int, seed: int, frames: bool) -> list[LabelledSequence]:
    from robrew.env_factory import make_env
    from robrew.envs.tabletop.expert import ExpertConfig, ScriptedExpert

    env = make_env(spec, render_mode="rgb_array" if frames else None)
    out = []
    try:
        for source, cfg in (("expert", ExpertConfig()), ("noisy", ExpertConfig(noise=0.6)), ("random", None)):
            for i in range(per_source):
                ep_seed = seed + 1000 * len(out) + i
                obs, info = env.reset(seed=ep_seed)
                env.action_space.seed(ep_seed)
                expert = ScriptedExpert(env, cfg, seed=ep_seed) if cfg is not None else None
                fr, ob, lab = [env.render()] if frames else [], [obs], [float(info["is_success"])]
                instruction = info.get("instruction")
                done = False
                while not done:
                    action = expert.act() if expert is not None else env.action_space.sample()
                    obs, _, terminated, truncated, info = env.step(action)
                    done = terminated or truncated
                    if frames:
                        fr.append(env.render())
                    ob.append(obs)
                    lab.append(float(info["is_success"]))
                out.append(
                    LabelledSequence(
                        source,
                        np.stack(fr) if frames else None,
                        stack_obs(ob),
                        instruction,
                        np.asarray(lab, np.float32),
                        bool(info["is_success"]),
                    )
                )
    finally:
        env.close()
    return out


def _humanoid(
    spec: TaskSpec, per_source: int, seed: int, frames: bool, steps: int, jitter_deg: float
) -> list[LabelledSequence]:
    from robrew.env_factory import make_env
    from robrew.envs.humanoid_poses import POSE_PRESETS, set_joint_pose

    env = make_env(spec, render_mode="rgb_array" if frames else None)
    base = env.unwrapped
    target = base.pose
    rng = np.random.default_rng(seed)
    others = [p for p in POSE_PRESETS if p != target and p != "standing"]
    out = []
    try:
        env.reset(seed=seed)
        for source in ("near", "away"):
            for i in range(per_source):
                preset = POSE_PRESETS[target] if source == "near" else POSE_PRESETS[others[(i + seed) % len(others)]]
                goal = {j: a + rng.normal(0.0, jitter_deg) for j, a in preset.items()}
                fr, ob, lab = [], [], []
                for a in np.linspace(0.0, 1.0, steps):
                    set_joint_pose(base.model, base.data, {j: a * v for j, v in goal.items()})
                    lab.append(float(base.current_pose_scores()[target] >= 0.5))
                    ob.append(base.current_observation())
                    if frames:
                        fr.append(env.render())
                out.append(
                    LabelledSequence(
                        source,
                        np.stack(fr) if frames else None,
                        stack_obs(ob),
                        None,
                        np.asarray(lab, np.float32),
                        bool(lab[-1]),
                    )
                )
    finally:
        env.close()
    return out


def goal_label(info: dict) -> float:
    """Ground truth of one step: 1.0 where the goal holds now. A humanoid pose env's
    ``pose_detected`` (its ``is_success`` is the whole episode's verdict), else ``is_success``.
    """
    return float(info["pose_detected"] if "pose_detected" in info else info.get("is_success", False))


def policy_rollouts(
    run: str | Path, episodes: int, seed: int = 30_000, frames: bool = True
) -> tuple[TaskSpec, list[LabelledSequence]]:
    """``episodes`` deterministic episodes of a trained run's policy (its live checkpoint), each a
    sequence of source ``policy`` labelled per step by :func:`goal_label`; ``success`` is the
    env's episode verdict (``is_success`` at the last step).

    Args:
        run: A ``robrew-train`` run directory or one of its checkpoints.
        episodes: Number of episodes (seeds ``seed ...``, apart from training and eval seeds).
        seed: First episode seed.
        frames: Render the frames (the task's camera and image size).

    Returns:
        (the run's task, the sequences).

    Raises:
        ConfigError: ``run`` is not a run directory or checkpoint (one line).
    """
    from robrew.metrics.rollouts import run_episodes
    from robrew.runs import load_run_policy

    if episodes <= 0:
        raise ValueError(f"episodes must be positive, got {episodes}")
    run_policy = load_run_policy(run)
    eps = run_episodes(
        run_policy.make_env,
        run_policy.act,
        episodes,
        seed,
        record=episodes if frames else 0,
        label=goal_label,
        model_obs=run_policy.env_obs,
    )
    seqs = [
        LabelledSequence(
            "policy",
            np.stack(ep.frames) if frames else None,
            stack_obs(ep.observations),
            ep.instruction,
            np.asarray(ep.labels, np.float32),
            ep.success,
        )
        for ep in eps
    ]
    return run_policy.spec, seqs
