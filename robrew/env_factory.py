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

from robrew.taskspec import TaskSpec, TaskSpecError, load_task


def make_env(task: TaskSpec | str, render_mode: str | None = None, **overrides) -> gym.Env:
    """Makes the task's env with its horizon, camera and image size.

    Args:
        task: A :class:`TaskSpec`, a shipped task name, or a path to a task file.
        render_mode: ``None`` (state only) or ``"rgb_array"``.
        **overrides: Env keyword arguments that take precedence over the spec's.

    Returns:
        The Gymnasium env. robrew envs get the spec's horizon (they truncate themselves),
        camera and image size; any other env gets ``max_episode_steps=horizon`` and only
        its ``env_kwargs`` (put ``width``/``height`` there if that env takes them).

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
        return gym.make(spec.env_id, render_mode=render_mode, **kwargs)
    except (TypeError, ValueError, KeyError) as e:
        message = str(e).split(" was raised from the environment creator")[0]  # Gymnasium appends all kwargs
        raise TaskSpecError(f"task {spec.name!r}: env {spec.env_id} rejects its settings: {message}") from None
