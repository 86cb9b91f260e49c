"""Task specs: one YAML file per task (``tasks/*.yaml``), loaded into a frozen, validated
dataclass. A malformed file fails with one :class:`TaskSpecError` naming the file,
the field and the fix.

Example:
    >>> spec = load_task("humanoid_kneeling")
    >>> spec.goal_prompts
    ('a humanoid robot kneeling',)
    >>> sorted(list_tasks())[:2]
    ['cartpole', 'humanoid_arms_crossed']
"""

from __future__ import annotations

import dataclasses
import fnmatch
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from robrew.render import CameraSpec

SUCCESS_KINDS = ("info_is_success", "info_key")
FLIPS = ("", "vertical", "horizontal", "both")


class TaskSpecError(ValueError):
    """A task file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class SuccessSpec:
    """How ground-truth episode success is read, on the episode's last step. ``info_is_success``:
    the env's ``info["is_success"]`` (each env documents its rule); ``info_key``: the env's
    ``info[key]`` (e.g. Meta-World's ``success``), which robrew copies to ``info["is_success"]``
    (:func:`robrew.env_factory.make_env`), so training, evaluation and the main job all read it.
    ``latch``: an episode that succeeded at any step counts as a success (Meta-World's benchmarks
    count it so; without it, success is read on the last step only)."""

    kind: str = "info_is_success"
    key: str = ""  # kind info_key: the info entry that says success
    latch: bool = False  # once successful, successful for the rest of the episode (Meta-World's protocol)
    description: str = ""


@dataclass(frozen=True)
class FrameTransform:
    """Turns the env's frames before anything sees them (a camera mounted upside down, say):
    ``rotate`` by 0, 90, 180 or 270 degrees counter-clockwise, then ``flip`` ``vertical``,
    ``horizontal`` or ``both``."""

    rotate: int = 0
    flip: str = ""

    @property
    def identity(self) -> bool:
        """True when the transform leaves frames as they are."""
        return self.rotate % 360 == 0 and self.flip == ""


@dataclass(frozen=True)
class TaskSpec:
    """A task: which env to make, how to look at it, and how to describe it.

    Prompts may contain ``{block}``, ``{pad}`` and ``{base}``: tabletop envs fill them
    with the episode's colours.
    """

    name: str
    env_id: str
    goal_prompts: tuple[str, ...]
    baseline_prompts: tuple[str, ...]
    horizon: int
    env_kwargs: dict = field(default_factory=dict)
    subtasks: tuple[str, ...] = ()
    camera: str | dict = "default"
    image_size: tuple[int, int] = (224, 224)  # (height, width)
    success: SuccessSpec = field(default_factory=SuccessSpec)
    instruction: str = ""  # default info["instruction"] for envs that give none (language-conditioned rewards read it)
    frame_transform: FrameTransform = field(default_factory=FrameTransform)
    tags: tuple[str, ...] = ()
    description: str = ""
    demos: int = 0  # demonstrations robrew-rabc records for this task by default (0: the job's own default)
    source: str = ""  # file it was loaded from


def _fail(source: str, field_name: str, message: str) -> typing.NoReturn:
    raise TaskSpecError(f"{source}: field '{field_name}': {message}")


def _check_type(source: str, name: str, value, annotation) -> object:
    """Coerces lists to tuples and checks ``value`` against a simple annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            try:
                return _check_type(source, name, value, option)
            except TaskSpecError:
                continue
        _fail(source, name, f"expected {annotation}, got {type(value).__name__} {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            _fail(source, name, f"expected a list, got {type(value).__name__} {value!r}")
        args = typing.get_args(annotation)
        item_types = [args[0]] * len(value) if args[-1] is Ellipsis else list(args)
        if len(item_types) != len(value):
            _fail(source, name, f"expected {len(item_types)} items, got {len(value)}")
        return tuple(_check_type(source, name, v, t) for v, t in zip(value, item_types))
    if annotation is dict:
        if not isinstance(value, dict):
            _fail(source, name, f"expected a mapping, got {type(value).__name__} {value!r}")
        return value
    if annotation is int and (isinstance(value, bool) or not isinstance(value, int)):
        _fail(source, name, f"expected an integer, got {type(value).__name__} {value!r}")
    if annotation is str and not isinstance(value, str):
        _fail(source, name, f"expected a string, got {type(value).__name__} {value!r}")
    return value


def _build(cls, data: dict, source: str, prefix: str = ""):
    if not isinstance(data, dict):
        _fail(source, prefix.rstrip(".") or "<top>", f"expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        _fail(source, prefix + unknown[0], f"unknown key; valid keys are {sorted(fields)}")
    values = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                _fail(source, prefix + name, "missing (required)")
            continue
        if hints[name] in (SuccessSpec, FrameTransform):
            values[name] = _build(hints[name], data[name], source, prefix + name + ".")
        else:
            values[name] = _check_type(source, prefix + name, data[name], hints[name])
    return cls(**values) if cls is not TaskSpec else values


def _validate(values: dict, source: str) -> None:
    for key in ("goal_prompts", "baseline_prompts"):
        prompts = values[key]
        if not prompts or any(not p.strip() for p in prompts):
            _fail(source, key, "needs at least one non-empty prompt")
    if values["horizon"] <= 0:
        _fail(source, "horizon", f"must be a positive number of steps, got {values['horizon']}")
    if values.get("demos", 0) < 0:
        _fail(source, "demos", f"must be a number of demonstrations >= 0 (0: the job's default), got {values['demos']}")
    h, w = values.get("image_size", (224, 224))
    if h <= 0 or w <= 0:
        _fail(source, "image_size", f"must be positive [height, width], got {[h, w]}")
    success = values.get("success")
    if success is not None and success.kind not in SUCCESS_KINDS:
        _fail(source, "success.kind", f"unknown kind {success.kind!r}; choose one of {SUCCESS_KINDS}")
    if success is not None and success.kind == "info_key" and not success.key.strip():
        _fail(source, "success.key", "kind info_key needs the info entry to read, e.g. key: success")
    turn = values.get("frame_transform")
    if turn is not None and (turn.rotate % 90 != 0 or turn.flip not in FLIPS):
        _fail(source, "frame_transform", f"rotate must be 0, 90, 180 or 270 and flip one of {FLIPS[1:]}, got {turn}")
    camera = values.get("camera", "default")
    if isinstance(camera, dict):
        try:
            CameraSpec.from_dict(camera)
        except (TypeError, ValueError) as e:
            _fail(
                source,
                "camera",
                f"not a valid camera ({e}); keys are {[f.name for f in dataclasses.fields(CameraSpec)]}",
            )
    import importlib

    import gymnasium as gym

    import robrew.envs  # noqa: F401  (registers the env ids)

    env_id = values["env_id"]
    if ":" in env_id:  # Gymnasium's "module:env_id": the module registers the id on import
        module, env_id = env_id.split(":", 1)
        try:
            importlib.import_module(module)
        except ImportError as e:
            _fail(source, "env_id", f"cannot import module {module!r} ({e})")
    if env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("robrew/"))
        _fail(source, "env_id", f"unknown env id {values['env_id']!r}; robrew registers {known}")


def parse_task(data: dict, source: str = "<dict>") -> TaskSpec:
    """Validates a parsed mapping into a :class:`TaskSpec`.

    Raises:
        TaskSpecError: naming ``source`` and the offending field.
    """
    values = _build(TaskSpec, data, source)
    _validate(values, source)
    return TaskSpec(**values, source=source)


def task_dir() -> Path:
    """Directory of the task files shipped with robrew."""
    return Path(str(resources.files("robrew.task_files")))


def list_tasks() -> list[str]:
    """Names of the shipped tasks."""
    return sorted(p.stem for p in task_dir().glob("*.yaml"))


def expand_tasks(names: Sequence[str]) -> list[str]:
    """Task names with shell-style patterns over the shipped tasks expanded, in order
    (``humanoid_*`` -> the eight humanoid poses); names without ``*?[`` and paths pass unchanged.

    Raises:
        TaskSpecError: a pattern that matches no shipped task.
    """
    out: list[str] = []
    for name in names:
        if Path(name).suffix in (".yaml", ".yml") or not any(c in name for c in "*?["):
            out.append(name)
            continue
        matched = fnmatch.filter(list_tasks(), name)
        if not matched:
            raise TaskSpecError(f"task pattern {name!r} matches no shipped task; shipped tasks are {list_tasks()}")
        out += [m for m in matched if m not in out]
    return out


def load_task(name_or_path: str | Path) -> TaskSpec:
    """Loads a shipped task by name, or any task file by path.

    Args:
        name_or_path: A name from :func:`list_tasks` or a path to a ``.yaml`` file.

    Returns:
        The validated, frozen :class:`TaskSpec`.

    Raises:
        TaskSpecError: unknown task, unreadable YAML, or an invalid field.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = task_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise TaskSpecError(f"unknown task {str(name_or_path)!r}; shipped tasks are {list_tasks()}")
    if not path.is_file():
        raise TaskSpecError(f"{path}: no such task file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise TaskSpecError(f"{path}: not UTF-8 text (byte {e.start}); save the task file as UTF-8") from None
    except yaml.YAMLError as e:
        raise TaskSpecError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        raise TaskSpecError(f"{path}: file is empty")
    spec = parse_task(data, str(path))
    if path.parent == task_dir() and spec.name != path.stem:
        _fail(str(path), "name", f"must match the file name {path.stem!r}, got {spec.name!r}")
    return spec
