"""Roll out a policy and record what actually happened: env reward, model reward,
ground-truth success, and (optionally) frames.

Example:
    >>> eps = run_episodes(lambda render: robrew.make_env("tabletop_reach"), policy, episodes=5, seed=0)
    >>> success_rate([e.success for e in eps])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from scipy import stats

from robrew.rewards.base import RewardModel


@dataclass
class Episode:
    """One evaluated episode."""

    env_rewards: list[float] = field(default_factory=list)
    model_rewards: list[float] = field(default_factory=list)  # empty without a reward model
    success: bool = False
    instruction: str | None = None
    frames: list[np.ndarray] = field(default_factory=list)  # only for recorded episodes
    observations: list[np.ndarray] = field(default_factory=list)  # only with ``label``
    labels: list[float] = field(default_factory=list)  # per-step ground truth, only with ``label``

    @property
    def env_return(self) -> float:
        """Sum of the env's rewards over the episode."""
        return float(np.sum(self.env_rewards))

    @property
    def model_return(self) -> float:
        """Sum of the model's rewards (NaN without a reward model)."""
        return float(np.sum(self.model_rewards)) if self.model_rewards else float("nan")


def run_episodes(
    env_fn: Callable[[bool], gym.Env],
    policy: Callable[[np.ndarray], np.ndarray],
    episodes: int,
    seed: int,
    reward_model: RewardModel | None = None,
    record: int = 0,
    label: Callable[[dict], float] | None = None,
    model_obs: Callable | None = None,
) -> list[Episode]:
    """Runs ``episodes`` episodes with seeds ``seed, seed + 1, ...``.

    Args:
        env_fn: ``env_fn(render)`` makes the env, with ``render_mode="rgb_array"`` if ``render``.
        policy: Observation -> action; its ``reset()``, if it has one, is called at each episode start.
        episodes: Number of episodes.
        seed: Seed of the first episode.
        reward_model: Scores every step (never trusted for success) when given.
        record: Keep the frames of the first ``record`` episodes.
        label: ``label(info)`` -> the ground-truth label of a step (e.g. "the goal holds now");
            when given, every episode keeps its observations and labels.
        model_obs: What the reward model reads of an observation, when not all of it (e.g. a
            residual learner's observation without the base action it carries).

    Returns:
        The episodes, in order.
    """
    model_frames = reward_model is not None and reward_model.needs_frames
    env = env_fn(record > 0 or model_frames)
    out = []
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=seed + i)
            if hasattr(policy, "reset"):  # stateful actors (e.g. BC's temporal ensembling)
                policy.reset()
            ep = Episode(instruction=info.get("instruction"))
            frames, observations, instructions = [], [], []
            render = model_frames or i < record  # frames cost most of a step: only where they are used
            done = False
            while not done:
                obs, reward, terminated, truncated, info = env.step(policy(obs))
                done = terminated or truncated
                ep.env_rewards.append(float(reward))
                frames.append(env.render() if render else None)
                seen = obs if model_obs is None else model_obs(obs)
                observations.append(seen if isinstance(seen, dict) else np.asarray(seen, np.float32))
                instructions.append(info.get("instruction"))
                if label is not None:
                    ep.labels.append(float(label(info)))
            if reward_model is not None:  # one batched call per episode, not one per step
                ep.model_rewards = reward_model.score_episode(
                    frames=np.stack(frames) if reward_model.needs_frames else None,
                    obs=np.stack(reward_model.flatten_obs(observations)) if reward_model.needs_obs else None,
                    instructions=instructions if all(s is not None for s in instructions) else None,
                ).tolist()
            if i < record:
                ep.frames = frames
            if label is not None:
                ep.observations = observations
            ep.success = bool(info.get("is_success", False))
            out.append(ep)
    finally:
        env.close()
    return out


def success_rate(successes: list[bool], confidence: float = 0.95) -> dict[str, float]:
    """Mean success with a Wilson score interval (sound at 0% and 100% too)."""
    n = len(successes)
    if n == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    p = float(np.mean(successes))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = min(max(0.0, centre - half), p), max(min(1.0, centre + half), p)  # rounding never excludes p
    return {"mean": p, "low": float(low), "high": float(high), "n": n}
