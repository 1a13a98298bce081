#!/usr/bin/env bash
# Check the Debian packages the project uses (the list is scripts/install_system.sh's):
# Java 17 (TorchServe), Python venv, redis-server, nginx (canary proxy), WordNet 3.0 (augmentation),
# PostgreSQL 15 (distributed HPO test), wrk (benchmark load), prometheus (alert rules and their tests).
# Exit 1 with the fix when something is missing.
set -u
mapfile -t PACKAGES < <("$(dirname "$0")/install_system.sh" --list)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -ne 0 ]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "fix: make system-deps   (runs apt-get install; needs root or sudo)" >&2
  exit 1
fi
java -version 2>&1 | grep -qE 'version "17' || { echo "Java 17 is not the default java: update-alternatives --config java" >&2; exit 1; }
