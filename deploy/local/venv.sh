#!/usr/bin/env bash
# The project's Python environment: .venv, synced exactly from uv.lock (never the system
# interpreter). uv itself comes from PyPI with pip, pinned, into a tools venv under .state/.
#
#   deploy/local/venv.sh          uv sync --locked  (fails if uv.lock is out of date)
#   deploy/local/venv.sh lock     re-resolve uv.lock after a pyproject.toml change
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

UV_VERSION=0.13.9
TOOLS="$STATE/uv-$UV_VERSION"
UV="$TOOLS/bin/uv"

# Only PyPI is reachable in CI: use the python3 on PATH, never a downloaded interpreter.
export UV_PYTHON_DOWNLOADS=never
export UV_PROJECT_ENVIRONMENT="$BAIYING_ROOT/.venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

if [[ ! -x $UV ]]; then
  log "installing uv $UV_VERSION into $TOOLS"
  mkdir -p "$STATE"
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q "uv==$UV_VERSION"
fi

cd "$BAIYING_ROOT"
case "${1:-sync}" in
  sync)
    "$UV" sync --locked --python python3 --quiet
    log "$(.venv/bin/python --version) in .venv, synced from uv.lock"
    ;;
  lock) "$UV" lock --python python3 ;;
  *) die "usage: $0 [sync|lock]" ;;
esac
