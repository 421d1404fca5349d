#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, and runs a whole single-node Shopfloor locally
# with its state in .shopfloor/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent build
exec node bin/shopfloor.js up --data-dir .shopfloor "$@"
