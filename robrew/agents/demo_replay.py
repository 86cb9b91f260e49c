"""Demonstrations in an off-policy learner's replay, RLPD-style (Ball et al. 2023): every batch
draws a fixed fraction from the demonstrations and the rest from the online buffer.

Demo transitions are rewarded by the *same* reward model and composition as online ones:
:func:`demo_transitions` runs each demo through :class:`robrew.wrappers.core.RewardScorer`, the
scoring core of the reward wrappers, so a potential-shaped, windowed or instruction-conditioned
reward is computed on demos exactly as it is online. They are rebuilt from the dataset at every
start (and resume), never saved with a checkpoint.

Example:
    >>> t = demo_transitions(load_demos(path), model, RewardComposition("potential", gamma=0.97))
    >>> sac = SAC("MlpPolicy", venv, replay_buffer_class=DemoMixReplayBuffer,
    ...           replay_buffer_kwargs={"demo_ratio": 0.5})
    >>> sac.replay_buffer.set_demos(t)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from robrew.data.demos import Demo, require_frames
from robrew.rewards.base import RewardModel
from robrew.wrappers.compose import RewardComposition
from robrew.wrappers.core import RewardScorer


@dataclass(frozen=True)
class DemoTransitions:
    """All transitions of a demo set: (obs, action, next obs, reward, termination), N rows each."""

    observations: np.ndarray  # float32 [N, D]
    actions: np.ndarray  # float32 [N, A]
    next_observations: np.ndarray  # float32 [N, D]
    rewards: np.ndarray  # float32 [N]
    dones: np.ndarray  # float32 [N], 1 only where the episode *terminated* (not on time limits)
    episode_ends: np.ndarray | None = None  # int64 [N]: row of the last transition of each row's episode

    def __len__(self) -> int:
        return len(self.actions)

    def n_step_plan(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """For n-step returns: (rows [N, n] of the next n transitions of each row's episode,
        mask [N, n] of those that count: within the episode and not after a termination).
        Without ``episode_ends`` every row is an episode of its own (one-step returns)."""
        count = len(self)
        ends = self.episode_ends if self.episode_ends is not None else np.arange(count)
        ahead = np.arange(count)[:, None] + np.arange(n)[None, :]
        inside = ahead <= ends[:, None]
        rows = np.minimum(ahead, ends[:, None])
        done = self.dones[rows] * inside
        mask = inside & ((np.cumsum(done, axis=1) - done) == 0)  # a termination ends the sum after itself
        return rows, mask


def demo_transitions(
    demos: list[Demo], reward_model: RewardModel | None = None, composition: RewardComposition | None = None
) -> DemoTransitions:
    """The demos' transitions, rewarded as online steps are: the env's recorded reward when there
    is no reward model, else the model composed with it through the wrappers' scoring core (all
    demos stepped in lockstep, one batched model call per time step).

    Raises:
        ValueError: no demos, or a demo without observations for every step.
    """
    if not demos:
        raise ValueError("no demonstrations to put in the replay buffer")
    for d in demos:
        if len(d.observations) != len(d.actions) + 1:
            raise ValueError(f"a demo has {len(d.actions)} actions but {len(d.observations)} observations (need T + 1)")
    rewards = [np.asarray(d.rewards, np.float64) for d in demos]
    if reward_model is not None and reward_model.needs_frames:
        require_frames(demos, f"reward model {reward_model.name!r}")
    if reward_model is not None:
        rewards = _scored_rewards(demos, reward_model, composition or RewardComposition())
    obs = np.concatenate([d.observations[:-1] for d in demos]).astype(np.float32)
    nxt = np.concatenate([d.observations[1:] for d in demos]).astype(np.float32)
    acts = np.concatenate([d.actions for d in demos]).astype(np.float32)
    # Recorded demos end at the time limit (truncation): no step is a termination.
    dones = np.zeros(len(acts), np.float32)
    ends = np.cumsum([len(d.actions) for d in demos]) - 1
    episode_ends = np.repeat(ends, [len(d.actions) for d in demos]).astype(np.int64)
    return DemoTransitions(obs, acts, nxt, np.concatenate(rewards).astype(np.float32), dones, episode_ends)


def _scored_rewards(demos: list[Demo], model: RewardModel, composition: RewardComposition) -> list[np.ndarray]:
    scorer = RewardScorer(model, len(demos), composition)
    infos = [{"instruction": d.instruction} if d.instruction else {} for d in demos]

    def inputs(rows: list[int], t: int):
        obs = np.stack([demos[i].observations[t] for i in rows]) if model.needs_obs else None
        frames = np.stack([demos[i].frames[t] for i in rows]) if model.needs_frames else None
        return obs, frames, [infos[i] for i in rows]

    everyone = list(range(len(demos)))
    scorer.start(everyone, *inputs(everyone, 0))
    out = [np.zeros(len(d.actions), np.float64) for d in demos]
    for t in range(max(len(d.actions) for d in demos)):
        rows = [i for i, d in enumerate(demos) if t < len(d.actions)]
        obs, frames, row_infos = inputs(rows, t + 1)
        env_r = np.array([demos[i].rewards[t] for i in rows], np.float64)
        s = scorer.step(rows, env_r, obs, frames, row_infos, np.zeros(len(rows), bool))
        for i, r in zip(rows, s.total):
            out[i][t] = r
    return out


class DemoMixReplayBuffer(NStepReplayBuffer):
    """SB3 replay buffer whose batches are ``demo_ratio`` demonstrations (:meth:`set_demos`) and
    the rest online transitions; with no demos set it is the plain buffer. Online data is saved in
    checkpoints as usual; the demos are not (they are rebuilt from the dataset).

    With ``n_steps > 1`` both parts give n-step returns (SB3's ``NStepReplayBuffer`` online; the
    same sums within each demo episode): the reward is sum_k gamma^k r_{t+k}, the bootstrap obs
    the one n steps on, and ``discounts`` gamma^n (fewer at an episode's end). A sparse success
    reward then reaches the start of a 100-step demo in a tenth of the updates.

    Args:
        demo_ratio: Fraction of each batch drawn from the demos, in [0, 1).
        n_steps: Steps per return (1: SB3's plain one-step buffer).
        gamma: The learner's discount (for n-step returns).
        *args, **kwargs: SB3's ``ReplayBuffer`` arguments.
    """

    def __init__(self, *args, demo_ratio: float = 0.5, n_steps: int = 1, gamma: float = 0.99, **kwargs):
        super().__init__(*args, n_steps=n_steps, gamma=gamma, **kwargs)
        if not 0.0 <= demo_ratio < 1.0:
            raise ValueError(f"demo_ratio must be in [0, 1), got {demo_ratio}")
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        self.demo_ratio = float(demo_ratio)
        self.demos: DemoTransitions | None = None
        self._plan: tuple[np.ndarray, np.ndarray] | None = None

    def _get_samples(self, batch_inds: np.ndarray, env=None) -> ReplayBufferSamples:
        if self.n_steps == 1:
            return ReplayBuffer._get_samples(self, batch_inds, env=env)
        return super()._get_samples(batch_inds, env=env)

    def set_demos(self, demos: DemoTransitions) -> None:
        """Sets the demonstrations; their observation and action sizes must be the env's."""
        obs_size, act_size = int(np.prod(self.obs_shape)), int(self.action_dim)
        if demos.observations.shape[1:] != (obs_size,) or demos.actions.shape[1:] != (act_size,):
            raise ValueError(
                f"demonstrations have observations of size {demos.observations.shape[1:]} and actions of size "
                f"{demos.actions.shape[1:]}, but this env has {obs_size} and {act_size}: record them in this env"
            )
        self.demos = demos
        self._plan = demos.n_step_plan(self.n_steps) if self.n_steps > 1 else None

    def demo_count(self, batch_size: int) -> int:
        """How many of a ``batch_size`` batch come from the demos (exact, the same every batch)."""
        return int(round(batch_size * self.demo_ratio)) if self.demos is not None else 0

    def sample(self, batch_size: int, env=None) -> ReplayBufferSamples:
        n_demo = self.demo_count(batch_size)
        if n_demo == 0:
            return super().sample(batch_size, env=env)
        idx = np.random.randint(0, len(self.demos), size=n_demo)
        demo = self._demo_samples(idx, env)
        if n_demo == batch_size:
            return demo
        online = super().sample(batch_size - n_demo, env=env)
        parts = 5 if demo.discounts is None else 6  # one-step batches carry no discounts
        return ReplayBufferSamples(*(torch.cat([a, b]) for a, b in zip(online[:parts], demo[:parts])))

    def _demo_samples(self, idx: np.ndarray, env) -> ReplayBufferSamples:
        d = self.demos
        if self._plan is None:
            last, reward, discounts = idx, self._normalize_reward(d.rewards[idx].reshape(-1, 1), env), None
        else:
            rows, mask = self._plan[0][idx], self._plan[1][idx]
            steps = mask.sum(axis=1)
            last = rows[np.arange(len(idx)), steps - 1]
            per_step = self._normalize_reward(d.rewards[rows], env) * mask
            reward = (per_step * self.gamma ** np.arange(self.n_steps)).sum(axis=1, keepdims=True)
            discounts = self.to_torch((self.gamma**steps).reshape(-1, 1).astype(np.float32))
        return ReplayBufferSamples(
            *map(
                self.to_torch,
                (
                    self._normalize_obs(d.observations[idx], env),
                    d.actions[idx],
                    self._normalize_obs(d.next_observations[last], env),
                    d.dones[last].reshape(-1, 1),
                    np.asarray(reward, np.float32),
                ),
            ),
            discounts=discounts,
        )
