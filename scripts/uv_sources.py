"""Prints the ``uv pip install`` options that make uv install from where pip is configured to:
pip's index, extra indexes, find-links and constraint files (``pip config list``: its files and
``PIP_*`` variables), so ``make`` installs with uv the same packages pip would.

uv reads none of pip's configuration. Without this, on a machine whose pip is pointed at a local
mirror or capped by a constraint file, uv would resolve against PyPI alone. uv looks at its
indexes in order by default; pip takes the best match across all of them, hence
``--index-strategy unsafe-best-match``.

Usage (what the Makefile does):
    uv pip install --python .venv/bin/python $(python3 scripts/uv_sources.py) ".[test]"

Example: with ``find-links = /opt/wheels`` in pip.conf it prints
``--find-links /opt/wheels --index-strategy unsafe-best-match``.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

#: pip's setting -> uv's option (each of pip's values may hold several, space-separated).
OPTIONS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
}


def uv_options(pip_config: str) -> list[str]:
    """``pip config list`` output (``section.key='value'`` lines) -> uv options, each value once."""
    seen: dict[str, list[str]] = {}
    for line in pip_config.splitlines():
        key, _, value = line.partition("=")
        option = OPTIONS.get(key.rpartition(".")[2])
        if option is None:
            continue
        for item in shlex.split(value.strip().strip("'\"")):
            if item not in seen.setdefault(option, []):
                seen[option].append(item)
    args = [arg for option, items in seen.items() for item in items for arg in (option, item)]
    return [*args, "--index-strategy", "unsafe-best-match"]


def main() -> None:
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    print(shlex.join(uv_options(out.stdout if out.returncode == 0 else "")))


if __name__ == "__main__":
    main()
