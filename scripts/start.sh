#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, and runs a whole single-node Shopfloor locally
# with its state in .shopfloor/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent build
# Where scripts/build-tools.sh keeps the real Kubernetes parts, for `--api-server kube-apiserver`;
# nothing is built here (the devcluster, the default, needs none of them).
if [[ -z ${SHOPFLOOR_TOOLS_BIN:-} ]] && tools_bin=$(bash scripts/build-tools.sh --bin-dir 2>/dev/null); then
  export SHOPFLOOR_TOOLS_BIN=$tools_bin
fi
exec node bin/shopfloor.js up --data-dir .shopfloor "$@"
