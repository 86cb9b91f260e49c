#!/usr/bin/env bash
# The lower end of robrew's supported MuJoCo range, checked: a fresh venv with robrew and
# mujoco==<version> (default 3.2.0, the floor in pyproject.toml), then the whole test suite.
# Not part of CI (a second install would double CI's time); run it when the floor moves.
#   scripts/check_mujoco_range.sh           # mujoco 3.2.0
#   scripts/check_mujoco_range.sh 3.3.0     # e.g. the version Meta-World pins
set -euo pipefail
cd "$(dirname "$0")/.."
MUJOCO="${1:-3.2.0}"
VENV="${VENV:-/tmp/robrew-mujoco-$MUJOCO}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q ".[test]" "mujoco==$MUJOCO"
"$VENV/bin/python" -c "import mujoco; v = mujoco.__version__; assert v == '$MUJOCO', v; print('mujoco', v)"
MUJOCO_GL=egl "$VENV/bin/pytest" -n 2 -p no:cacheprovider tests
