"""Build an environment from a task spec: the start of the chain
env -> renderer -> reward -> wrapper -> learner.

Example:
    >>> import robrew
    >>> env = robrew.make_env("tabletop_pick_place", render_mode="rgb_array")
    >>> obs, info = env.reset(seed=0)
    >>> frame = env.render()          # (224, 224, 3) uint8 from the task camera
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from robrew.taskspec import TaskSpec, TaskSpecError, load_task


class TaskSpecWrapper(gym.Wrapper):
    """What a task file says beyond the env's own settings, applied to any env:
    ``success: {kind: info_key, key: K}`` copies ``info[K]`` to ``info["is_success"]``;
    ``latch: true`` keeps ``info["is_success"]`` true once it was;
    ``instruction`` fills ``info["instruction"]`` where the env gives none;
    ``frame_transform`` turns every rendered frame. :func:`make_env` adds it only when needed.

    Example:
        >>> env = make_env("my_metaworld_task.yaml")       # success: {kind: info_key, key: success}
        >>> *_, info = env.step(env.action_space.sample()); info["is_success"]
    """

    def __init__(self, env: gym.Env, spec: TaskSpec):
        super().__init__(env)
        self.task = spec
        self._success_key = spec.success.key if spec.success.kind == "info_key" else None
        self._succeeded = False

    @staticmethod
    def needed(spec: TaskSpec) -> bool:
        """Whether ``spec`` asks for anything this wrapper does."""
        return (
            spec.success.kind == "info_key"
            or spec.success.latch
            or bool(spec.instruction)
            or not spec.frame_transform.identity
        )

    def _info(self, info: dict) -> dict:
        info = dict(info)
        if self._success_key is not None:
            info["is_success"] = bool(info.get(self._success_key, False))
        if self.task.success.latch:
            self._succeeded = self._succeeded or bool(info.get("is_success", False))
            info["is_success"] = self._succeeded
        if self.task.instruction and not info.get("instruction"):
            info["instruction"] = self.task.instruction
        return info

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._succeeded = False
        return obs, self._info(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, self._info(info)

    def render(self):
        frame = self.env.render()
        turn = self.task.frame_transform
        if frame is None or turn.identity:
            return frame
        frame = np.rot90(frame, k=(turn.rotate // 90) % 4, axes=(0, 1))
        if turn.flip in ("vertical", "both"):
            frame = frame[::-1]
        if turn.flip in ("horizontal", "both"):
            frame = frame[:, ::-1]
        return np.ascontiguousarray(frame)


def make_env(task: TaskSpec | str, render_mode: str | None = None, **overrides) -> gym.Env:
    """Makes the task's env with its horizon, camera and image size.

    Args:
        task: A :class:`TaskSpec`, a shipped task name, or a path to a task file.
        render_mode: ``None`` (state only) or ``"rgb_array"``.
        **overrides: Env keyword arguments that take precedence over the spec's.

    Returns:
        The Gymnasium env. robrew envs get the spec's horizon (they truncate themselves),
        camera and image size; any other env gets ``max_episode_steps=horizon`` and only
        its ``env_kwargs`` (put ``width``/``height`` there if that env takes them). Success
        from an info key, a default instruction and a frame transform come through
        :class:`TaskSpecWrapper`.

    Raises:
        TaskSpecError: the env rejects the task's settings (an unknown camera preset or env
            keyword): one line naming the task and the env.
    """
    import robrew.envs  # noqa: F401  (registers the env ids)

    spec = load_task(task) if isinstance(task, str) else task
    if spec.env_id.split(":")[-1].startswith("robrew/"):
        height, width = spec.image_size
        kwargs = {"horizon": spec.horizon, "width": width, "height": height, **spec.env_kwargs}
        if spec.camera != "default":
            kwargs["camera"] = spec.camera
    else:
        kwargs = {"max_episode_steps": spec.horizon, **spec.env_kwargs}
    kwargs.update(overrides)
    try:
        env = gym.make(spec.env_id, render_mode=render_mode, **kwargs)
    except (TypeError, ValueError, KeyError) as e:
        message = str(e).split(" was raised from the environment creator")[0]  # Gymnasium appends all kwargs
        raise TaskSpecError(f"task {spec.name!r}: env {spec.env_id} rejects its settings: {message}") from None
    return TaskSpecWrapper(env, spec) if TaskSpecWrapper.needed(spec) else env
