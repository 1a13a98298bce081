#!/usr/bin/env bash
# Install the Debian 12 packages the project uses (apt-get; needs root or sudo). The one list:
# `make system-deps` and .ci/run install with it, `make check-system` (scripts/check_system.sh)
# checks it, and the Dockerfile installs its serving part, so CI runs the image's install step
# on every fresh machine.
#
#   scripts/install_system.sh                  everything: serving, tests, benchmarks
#   scripts/install_system.sh --serving        what the serving image needs: Java 17, Python 3.11 + venv, make, curl
#   scripts/install_system.sh --list [--serving]   print the package names, install nothing
#
# Exit codes: 0 installed (or listed), 1 apt-get failed, 2 bad arguments.
set -euo pipefail

# TorchServe (Java 17), the venv (python3-venv), `make install`, the image's HEALTHCHECK (curl)
SERVING=(openjdk-17-jre-headless python3 python3-venv make curl ca-certificates)
# + result cache, canary proxy, WordNet 3.0 (augmentation), PostgreSQL 15 (distributed HPO test),
# wrk (the benchmark's load generator), prometheus (promtool and the server the alert tests run)
ALL=("${SERVING[@]}" redis-server nginx wordnet-base postgresql-15 wrk prometheus)

packages=("${ALL[@]}"); list=0
for arg in "$@"; do
  case "$arg" in
    --serving) packages=("${SERVING[@]}") ;;
    --list) list=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$list" -eq 1 ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO="${SUDO:-sudo}"; [ "$(id -u)" -eq 0 ] && SUDO=""  # check_system.sh passes SUDO="sudo -n"
$SUDO apt-get update -q || exit 1
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" || exit 1
# the project starts its own servers on loopback ports; the system services are not needed
for svc in redis-server nginx postgresql prometheus; do $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; done
exit 0
