"""Command-line flags generated from a config dataclass, so a CLI exposes every field of the
config it fills and never falls behind it.

Each field ``name`` becomes ``--name`` (underscores as dashes) with its type (``int | None``
takes an int or ``none``; an Enum takes one of its values; ``bool`` is ``--flag/--no-flag``),
its default, and the comment written after the field in the dataclass as its help.

Example:
    >>> parser = argparse.ArgumentParser()
    >>> add_config_arguments(parser, ProgressTrainConfig, defaults={"steps": 3000})
    >>> cfg = config_from_arguments(ProgressTrainConfig, parser.parse_args(["--encoder", "slots"]))
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import inspect
import re
import types
import typing
from typing import Any


def _field_comments(cls: type) -> dict[str, str]:
    """``{field: comment}`` from ``name: type = default  # comment`` lines of the class source."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    return dict(re.findall(r"^\s+(\w+):[^#\n]*#\s*(.+)$", source, flags=re.MULTILINE))


def _base_type(hint: Any) -> tuple[Any, bool]:
    """(the type without ``None``, whether ``None`` is allowed)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), True
    return hint, False


def _parser_for(kind: Any, optional: bool):
    def parse(text: str):
        if optional and text.lower() in ("none", "null"):
            return None
        return kind(text)

    parse.__name__ = getattr(kind, "__name__", "value")
    return parse


def add_config_arguments(
    parser: argparse.ArgumentParser, cls: type, defaults: dict[str, Any] | None = None, skip: tuple[str, ...] = ()
) -> None:
    """Adds a flag for every field of dataclass ``cls`` (except ``skip``); ``defaults`` override the class's."""
    hints = typing.get_type_hints(cls)
    comments = _field_comments(cls)
    group = parser.add_argument_group(f"{cls.__name__} (every field)")
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default = (defaults or {}).get(
            f.name, f.default if f.default is not dataclasses.MISSING else f.default_factory()
        )
        kind, optional = _base_type(hints[f.name])
        flag = "--" + f.name.replace("_", "-")
        help_text = comments.get(f.name, "")
        shown = default.value if isinstance(default, enum.Enum) else default
        help_text = f"{help_text} (default: {shown})".strip()
        if kind is bool:
            group.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default, help=help_text
            )
        elif isinstance(kind, type) and issubclass(kind, enum.Enum):
            choices = [m.value for m in kind]
            group.add_argument(flag, dest=f.name, choices=choices, default=shown, help=help_text)
        elif typing.get_origin(kind) is list:
            (item,) = typing.get_args(kind)
            group.add_argument(flag, dest=f.name, nargs="+", type=item, default=default, help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=_parser_for(kind, optional), default=default, help=help_text)


def config_from_arguments(cls: type, args: argparse.Namespace, **overrides: Any):
    """An instance of dataclass ``cls`` from the flags :func:`add_config_arguments` added."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in overrides:
            values[f.name] = overrides[f.name]
        elif hasattr(args, f.name):
            value = getattr(args, f.name)
            kind, _ = _base_type(hints[f.name])
            if isinstance(kind, type) and issubclass(kind, enum.Enum) and value is not None:
                value = kind(value)
            values[f.name] = value
    return cls(**values)


def task_file_overrides(args: list[str], prog: str, group: bool) -> list[str]:
    """Hydra overrides with task files named the same way in every app: ``task=<shipped name>``,
    ``task=<file>.yaml`` and ``task.path=<file>`` all work.

    ``group=True`` (``robrew-train``, where ``task`` is a config group): a file becomes
    ``task.path=<absolute file>`` plus ``task.name=<the file's own name>``, so the run directory
    and ``config.yaml`` carry the file's name. ``group=False`` (``robrew-rabc``, where ``task`` is
    one string): ``task.path=<file>`` becomes ``task=<absolute file>``. A file that does not load
    is one line on stderr and exit 2, before Hydra starts.

    Example:
        >>> task_file_overrides(["task=my_reach.yaml", "seed=1"], "robrew-train", group=True)
        ['task.path=/abs/my_reach.yaml', 'task.name=my_reach', 'seed=1']
    """
    import sys
    from pathlib import Path

    from robrew.taskspec import TaskSpecError, load_task

    named = any(a.startswith("task.name=") for a in args)  # the user's own name wins
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        is_file = key == "task.path" or (key == "task" and value.endswith((".yaml", ".yml")))
        if not sep or not is_file or "," in value:  # sweeps (a,b) go to Hydra as they are
            out.append(arg)
            continue
        try:
            spec = load_task(value)
        except TaskSpecError as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            sys.exit(2)
        path = str(Path(value).resolve())
        if not group:
            out.append(f"task={path}")
        else:
            out += [f"task.path={path}"] + ([] if named else [f"task.name={spec.name}"])
    return out


#: Config keys that moved, per Hydra app: old key -> new key (Hydra's own error would suggest ``+old=``).
RENAMED_KEYS: dict[str, dict[str, str]] = {
    "robrew-rabc": {
        "progress_steps": "progress.steps",
        "progress_encoder": "progress.encoder",
        "progress_window": "progress.window",
        "rewind": "progress.rewind",
        "bc_steps": "bc.steps",
        "chunk": "bc.chunk",
        "kappa": "bc.kappa",
    },
    "robrew-train": {
        "algo.residual_scale": "algo.residual.scale",
        "algo.residual_penalty": "algo.residual.penalty",
    },
}


def check_renamed_keys(args: list[str], prog: str) -> None:
    """One line on stderr and exit 2 when an override names a key that was renamed (see
    :data:`RENAMED_KEYS`), naming the new key with the user's own value."""
    import sys

    renamed = RENAMED_KEYS.get(prog, {})
    for arg in args:
        key, sep, value = arg.lstrip("+~").partition("=")
        if key in renamed:
            print(f"{prog}: error: {key} is now {renamed[key]}: write {renamed[key]}{sep}{value}", file=sys.stderr)
            sys.exit(2)
