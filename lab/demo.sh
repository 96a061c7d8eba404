#!/usr/bin/env bash
# The main job on the embedded default: installs what tsplay needs (Debian packages, npm deps,
# Debian's linux-source-6.1), builds tsplay, brings up the namespace lab (cm3, builder, w1, w2) and
# runs the whole kernel-build lifecycle against it:
#   power-on → post-power-on-validate → pump-preflight → pump-start → kernel-build
# The kernel build is linux-source-6.1 with tinyconfig on the lab builder, compiled through distcc
# on the workers at -j14 (a few minutes on 2 cores). Extra arguments go to `tsplay lifecycle`.
# Run as root on Debian 12 with Node.js 20.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh
if ! dpkg-query -W -f='${Status}' linux-source-6.1 2>/dev/null | grep -q 'install ok installed'; then
  echo "lab/demo.sh: apt-get install linux-source-6.1 (the kernel tree the build uses)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-source-6.1 >/dev/null
fi
bin/tsplay lab up --take-over
exec bin/tsplay lifecycle -i .lab/inventory.yml "$@"
