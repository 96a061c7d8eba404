#!/usr/bin/env bash
# Installs everything tsplay's tests need on a fresh Debian 12 machine (run as root), then
# installs the npm dependencies and builds. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "tests/setup.sh: the lab needs root (network namespaces, bind mounts); re-run as root" >&2
  exit 1
fi

# g++: npm builds ssh2's and cpu-features' optional native addons with it (node-gyp), as on a real
# controller; tests/transport/snapshot-ssh.test.ts checks a run loads ssh2's binding.
PACKAGES=(
  openssh-server openssh-client iproute2 util-linux procps psmisc python3 strace
  make gcc g++ libc6-dev distcc distcc-pump
  bc flex bison libelf-dev libssl-dev xz-utils
  chromium
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "tests/setup.sh: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund  # npm 11's `npm ci` trips over optional platform packages in the lock
fi
npm run build --silent
