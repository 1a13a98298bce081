#!/usr/bin/env bash
# Check the Debian packages the project uses (the list is scripts/install_system.sh's):
# Java 17 (TorchServe), Python venv, redis-server, nginx (canary proxy), WordNet 3.0 (augmentation),
# PostgreSQL 15 (distributed HPO test), wrk (benchmark load), prometheus (alert rules and their tests).
# Missing packages are installed in the chain when it can (root, or passwordless sudo), saying so,
# so `make serve` on a fresh machine needs no third command; otherwise it exits 1 with the fix.
set -u
here="$(dirname "$0")"
mapfile -t PACKAGES < <("$here/install_system.sh" --list)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -ne 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
  if [ -z "$SUDO" ] || sudo -n true 2>/dev/null; then
    echo "missing system packages: ${missing[*]}: installing them now with apt-get (root or passwordless sudo; what make system-deps does)"
    SUDO="$SUDO" "$here/install_system.sh" || exit 1
  else
    echo "missing system packages: ${missing[*]}" >&2
    echo "fix: make system-deps   (runs apt-get install; needs root or sudo)" >&2
    exit 1
  fi
fi
java -version 2>&1 | grep -qE 'version "17' || { echo "Java 17 is not the default java: update-alternatives --config java" >&2; exit 1; }
