"""Refit a learned progress reward during RL on the policy's own states (GAIL / VICE-style rounds).

A reward model trained on demonstrations is wrong off them, and RL drives straight to where it is
wrong: a humanoid lying flat that a standing model pays 1.0 per step. Every ``refit.every`` env
steps, :class:`RewardRefitCallback` retrains the run's progress model for ``refit.steps`` optimiser
steps on the demos (labelled as in training) plus a pool of the policy's states labelled "no
progress" (:func:`robrew.training.progress.refit_progress`), in place: the reward wrapper and the
ground-truth evaluation score with the refitted model from the next rollout on.

What goes in: the run's reward config (``reward.refit``: :class:`robrew.rewards.factory.RefitConfig`)
and its state progress model. What comes out: ``refit.csv`` in the run directory (per round: the
model's mean score on the policy's frames and on the successful demos' frames, before and after
the round; the exploitation figures), ``refit/*`` in TensorBoard, and the refitted model in
``<run>/reward_refit`` (what a resumed run and an evaluation of the run score with).

Example:
    >>> robrew-train task=humanoid_standing reward.name=progress reward.checkpoint=runs/progress_standing \\
    ...     reward.refit.every=50000
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from robrew.data.demos import Demo
from robrew.rewards.base import RewardModel
from robrew.rewards.factory import RewardConfig
from robrew.runs import REFIT_DIR

REFIT_CSV = "refit.csv"


def refit_dataset(cfg: RewardConfig) -> str:
    """The demos a refit trains on: ``reward.refit.demos``, else the dataset recorded in the
    checkpoint's ``report.json``. Raises ``ValueError`` (one line) when there is none."""
    if cfg.refit.demos:
        return cfg.refit.demos
    report = Path(cfg.checkpoint or "") / "report.json"
    data = json.loads(report.read_text()).get("data") if report.is_file() else None
    if not data:
        raise ValueError(
            f"reward.refit needs the demos the reward was trained on and {report} does not name them: "
            "set reward.refit.demos=<dataset dir>"
        )
    return str(data)


def check_refit(cfg: RewardConfig, model: RewardModel | None) -> None:
    """Raises ``ValueError`` (one line) unless ``reward.refit`` can run with this reward."""
    r = cfg.refit
    if r.every < 0 or r.steps <= 0 or r.negatives <= 0 or r.lr <= 0:
        raise ValueError(
            f"reward.refit: every must be >= 0 and steps, negatives, lr positive; got every={r.every}, "
            f"steps={r.steps}, negatives={r.negatives}, lr={r.lr}"
        )
    if r.every == 0:
        return
    if model is None or model.name != "progress" or not cfg.checkpoint:
        raise ValueError(
            "reward.refit retrains a learned progress model: use reward.name=progress reward.checkpoint=DIR"
        )
    if model.needs_frames or not model.needs_obs:
        raise ValueError("reward.refit keeps the policy's states, not its frames: use a state progress model")
    refit_dataset(cfg)


def policy_observation(locals_: dict, vec_normalize, model_obs=None) -> np.ndarray:
    """The raw env observations of the step SB3 just took (``VecNormalize`` undone; a residual
    learner's observation cut back to the env's with ``model_obs``)."""
    obs = vec_normalize.get_original_obs() if vec_normalize is not None else locals_["new_obs"]
    return np.asarray(model_obs(obs) if model_obs is not None else obs, dtype=np.float32)


class RewardRefitCallback(BaseCallback):
    """Collects the policy's observations per env episode and refits the reward model on them
    every ``cfg.refit.every`` env steps (at the end of a rollout, so one rollout is scored by one
    model). Keeps about ``negatives`` x (demo frames) policy frames: when full, a random older
    segment makes room for a new one, so the pool spans the whole run (the falls of the first
    rollouts stay negatives after the policy stops falling)."""

    def __init__(
        self,
        cfg: RewardConfig,
        reward_model: RewardModel,
        demos: list[Demo],
        run_dir: Path,
        vec_normalize=None,
        model_obs=None,
        seed: int = 0,
    ):
        from robrew.training.progress import ProgressTrainConfig, trainable_demos

        super().__init__()
        self.cfg, self.reward_model, self.run_dir = cfg.refit, reward_model, Path(run_dir)
        self.vec_normalize, self.model_obs = vec_normalize, model_obs
        self.demos = demos
        self.train_cfg = ProgressTrainConfig(window=reward_model.window, lr=cfg.refit.lr, seed=seed)
        good = [d for d in demos if d.success]
        self.instruction = good[0].instruction if good else ""
        self.demo_obs = [reward_model.flatten_obs(d.observations) for d in good]  # scored every round
        demo_frames = sum(len(d.subtask) for d in trainable_demos(demos))
        self.capacity = max(1, int(round(cfg.refit.negatives * demo_frames)))
        self.segments: list[np.ndarray] = []
        self.kept = 0
        self.open: list[list[np.ndarray]] = []
        self.fresh: list[np.ndarray] = []  # this round's frames, for the before/after scores
        self.opt, self.rng = None, np.random.default_rng(seed)
        self._last = 0

    def _on_training_start(self) -> None:
        self.open = [[] for _ in range(self.training_env.num_envs)]
        self._last = self.model.num_timesteps

    def _on_step(self) -> bool:
        obs = policy_observation(self.locals, self.vec_normalize, self.model_obs)
        for i, done in enumerate(self.locals["dones"]):
            if done:  # obs[i] is the next episode's first observation
                self._close(i)
            self.open[i].append(obs[i])
        return True

    def _close(self, i: int) -> None:
        if self.open[i]:
            seg = np.stack(self.open[i])
            self.segments.append(seg)
            self.fresh.append(seg)
            self.kept += len(seg)
            while len(self.segments) > 1 and self.kept > self.capacity:
                # drop a random kept segment: the pool keeps early states (falls) beside recent ones
                j = int(self.rng.integers(len(self.segments) - 1))
                self.kept -= len(self.segments[j])
                del self.segments[j]
        self.open[i] = []

    def _on_rollout_end(self) -> None:
        if self.model.num_timesteps - self._last < self.cfg.every:
            return
        self._last = self.model.num_timesteps
        for i in range(len(self.open)):  # episodes still running count with what they have so far
            self._close(i)
        if self.segments:
            self.refit()

    def scores(self) -> tuple[float, float]:
        """The model's mean score on this round's policy frames and on the successful demos' frames."""
        model = self.reward_model

        def mean_score(episodes: list[np.ndarray]) -> float:
            if not episodes:
                return float("nan")
            scored = [model.score_episode(obs=e, instructions=self.instruction) for e in episodes]
            return float(np.concatenate(scored).mean())

        return mean_score(self.fresh), mean_score(self.demo_obs)

    def refit(self) -> dict:
        """One round now; logs and appends to ``refit.csv``; returns the round's figures."""
        from robrew.io import replace_dir
        from robrew.rewards import save_reward_model
        from robrew.training.progress import refit_progress

        before = self.scores()
        losses, self.opt = refit_progress(
            self.reward_model, self.demos, list(self.segments), self.cfg.steps, self.train_cfg, self.opt, self.rng
        )
        self.reward_model.clear_caches()
        after = self.scores()
        row = {
            "timesteps": int(self.model.num_timesteps),
            "policy_score": before[0],
            "demo_score": before[1],
            "policy_score_after": after[0],
            "demo_score_after": after[1],
            "loss": float(np.mean(losses[-20:])),
            "negative_frames": int(self.kept),
        }
        for k, v in row.items():
            if k != "timesteps":
                self.logger.record(f"refit/{k}", v)
        path = self.run_dir / REFIT_CSV
        new = not path.exists()
        with path.open("a") as f:
            if new:
                f.write(",".join(row) + "\n")
            f.write(",".join(str(v) for v in row.values()) + "\n")
        staging = Path(tempfile.mkdtemp(dir=self.run_dir, prefix=".reward_refit-"))
        save_reward_model(self.reward_model, staging)  # weights and their sha256 swap in together
        replace_dir(staging, self.run_dir / REFIT_DIR)
        self.fresh = []
        return row
