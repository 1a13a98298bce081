#!/usr/bin/env bash
# Check (or with --install, apt-get install) the Debian parts the project uses:
# Java 17 (TorchServe), redis-server, nginx (canary proxy), WordNet 3.0 (augmentation),
# PostgreSQL 15 (distributed HPO test), wrk (the benchmark's load generator).
# A check that finds packages missing installs them when it can (root, or passwordless sudo),
# saying so, so `make serve` on a fresh machine needs no third command; otherwise it exits 1
# with the fix.
set -u
PACKAGES=(openjdk-17-jre-headless redis-server nginx wordnet-base postgresql-15 wrk)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

install_missing() {  # $SUDO: empty for root, else the sudo command to use
  $SUDO apt-get update -q || exit 1
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" || exit 1
  # the project starts its own redis/nginx/postgres on loopback ports; the system services are not needed
  for svc in redis-server nginx postgresql; do $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; done
}

if [ "${1:-}" = "--install" ]; then
  if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present"
    exit 0
  fi
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"  # may ask for a password: the user asked for the install
  install_missing
  exit 0
fi

if [ ${#missing[@]} -ne 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
  if [ -z "$SUDO" ] || sudo -n true 2>/dev/null; then
    echo "missing system packages: ${missing[*]}: installing them now with apt-get (root or passwordless sudo; what make system-deps does)"
    install_missing
  else
    echo "missing system packages: ${missing[*]}" >&2
    echo "fix: make system-deps   (runs apt-get install; needs root or sudo)" >&2
    exit 1
  fi
fi
java -version 2>&1 | grep -qE 'version "17' || { echo "Java 17 is not the default java: update-alternatives --config java" >&2; exit 1; }
