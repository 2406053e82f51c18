#!/usr/bin/env bash
# Install the OS packages the local infra needs (Debian 12 / bookworm).
# Idempotent: packages already installed are skipped, and `apt-get update`
# only runs when something actually has to be installed.
# Python deps are deploy/local/venv.sh's job (uv sync from uv.lock into .venv), not ours.
set -euo pipefail
LOG_TAG=install
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGES=(
  postgresql-15            # server + client (psql, pg_isready)
  postgresql-15-postgis-3  # CREATE EXTENSION postgis
  openjdk-17-jre-headless  # Kafka 4.x brokers require Java 17+
  maven                    # resolves the Kafka jars (deploy/kafka/pom.xml)
  fonts-noto-cjk           # Chinese text in browser screenshots (tests)
  curl
  procps                   # pgrep/ps used by the scripts
  wrk                      # bench/: HTTP load generator whose own ceiling is far above ours
)

# The consoles' map library (Leaflet) comes from npm (deploy/local/webdeps.sh, run at the end).
command -v npm >/dev/null || PACKAGES+=(npm)

# Headless browser tests (pytest marker `browser`) drive Debian's chromium
# via playwright (`playwright install` can't download browsers here). It is
# large, so only install it when the tests need it: in CI, for `make test` (which sets
# BAIYING_INSTALL_BROWSER=1), or when asked — `make run` does not need it.
if [[ ${BAIYING_INSTALL_BROWSER:-} == 1 || ${CI:-} == true ]]; then
  PACKAGES+=(chromium)
fi

# deploy/local/venv.sh makes a small venv (with pip) to install uv into; a fresh Debian
# python3 needs python3-venv for that. A pyenv or python:3.11 image python already has it.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  PACKAGES+=(python3 python3-venv)
fi

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  log "all OS packages present (${#PACKAGES[@]} checked)"
  exec "$(dirname "${BASH_SOURCE[0]}")/webdeps.sh"
fi

SUDO=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
  SUDO=(sudo -n)
fi

# CI runs with no stdin/tty: never let debconf or dpkg prompt.
export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# Refresh package lists once: always when none are cached (fresh
# container images ship without them), otherwise only if the first install
# attempt fails (stale lists pointing at superseded versions).
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  log "apt-get update (no package lists cached)"
  "${APT[@]}" update
  updated=1
else
  updated=0
fi

log "installing: ${missing[*]}"
if ! "${APT[@]}" install --no-install-recommends "${missing[@]}"; then
  ((updated)) && die "apt-get install failed"
  log "install failed; retrying after apt-get update"
  "${APT[@]}" update
  "${APT[@]}" install --no-install-recommends "${missing[@]}"
fi
log "done"
exec "$(dirname "${BASH_SOURCE[0]}")/webdeps.sh"
