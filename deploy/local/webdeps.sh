#!/usr/bin/env bash
# Install the browser libraries the consoles serve from their own origin (today: Leaflet).
# npm installs the versions pinned in deploy/web/package-lock.json (integrity-checked), then
# the dist files are copied under services/consoles/static/vendor/ — neither is committed.
# Idempotent: nothing is fetched when the pinned version is already in place.
set -euo pipefail
LOG_TAG=webdeps
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WEB="$ROOT/deploy/web"
VENDOR="$ROOT/services/consoles/static/vendor"
WANT="$(sed -n 's/.*"leaflet": "\(.*\)".*/\1/p' "$WEB/package.json")"

if [[ -f $VENDOR/leaflet/VERSION && $(cat "$VENDOR/leaflet/VERSION") == "$WANT" ]]; then
  log "leaflet $WANT already in place"
  exit 0
fi
command -v npm >/dev/null || die "npm not found (deploy/local/install.sh installs it)"
log "npm ci (leaflet $WANT)"
npm ci --prefix "$WEB" --no-audit --no-fund --ignore-scripts --loglevel=error
rm -rf "$VENDOR/leaflet"
mkdir -p "$VENDOR/leaflet"
cp -r "$WEB/node_modules/leaflet/dist/." "$VENDOR/leaflet/"
cp "$WEB/node_modules/leaflet/LICENSE" "$VENDOR/leaflet/LICENSE"
echo "$WANT" >"$VENDOR/leaflet/VERSION"
log "leaflet $WANT -> services/consoles/static/vendor/leaflet"
