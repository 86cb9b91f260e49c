"""Diagnostic (not a test): can a learner that maximises the hand-written dense reward of push or
pick-and-place settle short of the task? Runs scripted behaviours — the expert, and the local
optima an RL learner reaches first — and prints each one's return per reward term and its success.

Behaviours:
  push:        expert; hover at the push point (fingers open / closed); push with open fingers
  pick_place:  expert; carry to above the pad and hold there; lift and hold

Usage:
    python scripts/diag_dense_rewards.py [--episodes 20]
"""

from __future__ import annotations

import argparse

import numpy as np

import robrew  # noqa: F401  (sets MUJOCO_GL before mujoco loads)


def _toward(s, target: np.ndarray, grip: float) -> np.ndarray:
    from robrew.envs.tabletop.env import MAX_STEP

    return np.r_[np.clip((target - s.grip) / MAX_STEP, -1.0, 1.0), grip]


def behaviours():
    from robrew.envs.tabletop.task_defs import REST_Z, push_behind_point

    def expert(env, ex, memo):
        return ex.act()

    def hover(grip):
        return lambda env, ex, memo: _toward(env.scene_state(), push_behind_point(env.scene_state()), grip)

    def push_open(env, ex, memo):  # to the push point, then straight at the pad with open fingers
        s = env.scene_state()
        if not memo.get("pushing") and np.linalg.norm(s.grip - push_behind_point(s)) > 0.01:
            return _toward(s, push_behind_point(s), -1.0)
        memo["pushing"] = True
        return _toward(s, np.r_[s.pads[0], REST_Z], -1.0)

    def hold_from(phase):  # the expert until ``phase``, then hold the block where it is, closed
        def act(env, ex, memo):
            a = ex.act()
            if ex.phase < phase:
                return a
            s = env.scene_state()
            memo.setdefault("hold", s.grip.copy())
            return _toward(s, memo["hold"], 1.0)

        return act

    return {
        "push": {
            "expert": expert,
            "hover, fingers open": hover(-1.0),
            "hover, fingers closed": hover(1.0),
            "push, fingers open": push_open,
        },
        "pick_place": {"expert": expert, "carry above the pad, hold": hold_from(4), "lift and hold": hold_from(3)},
    }


def measure(task: str, act, episodes: int) -> tuple[dict[str, float], float]:
    import gymnasium as gym

    from robrew.envs.tabletop.expert import ExpertConfig, ScriptedExpert

    env_id = {"push": "robrew/TabletopPush-v0", "pick_place": "robrew/TabletopPickPlace-v0"}[task]
    terms: dict[str, float] = {}
    wins = 0
    for ep in range(episodes):
        env = gym.make(env_id)
        env.reset(seed=2000 + ep)
        base = env.unwrapped
        ex, memo = ScriptedExpert(base, ExpertConfig(), seed=ep), {}
        for _ in range(base.horizon):
            *_, info = env.step(act(base, ex, memo))
            for k, v in info["reward_terms"].items():
                terms[k] = terms.get(k, 0.0) + float(v) / episodes
        wins += bool(info["is_success"])
        env.close()
    return terms, wins / episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20)
    args = parser.parse_args()
    for task, table in behaviours().items():
        print(f"\n{task} (dense reward, return per episode over {args.episodes} episodes)")
        for name, act in table.items():
            terms, success = measure(task, act, args.episodes)
            parts = ", ".join(f"{k} {v:.1f}" for k, v in terms.items())
            print(f"  {name:<28} return {sum(terms.values()):7.1f}  success {success:4.0%}   ({parts})")


if __name__ == "__main__":
    main()
