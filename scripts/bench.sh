#!/usr/bin/env bash
# `npm run bench -- <name>` runs bench/<name>.ts. Every benchmark prints its figures for a reader
# and ends with one line holding a JSON object of its named figures.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-}
if [[ -z $name || ! -f bench/$name.ts ]]; then
  echo "usage: npm run bench -- <name>   (one of: $(cd bench 2>/dev/null && ls *.ts | sed 's/\.ts$//' | tr '\n' ' '))" >&2
  exit 2
fi
shift
bash scripts/install-deps.sh
# The real Kubernetes parts some benchmarks run beside Shopfloor's (scripts/build-tools.sh, built
# once into a cache); a benchmark that cannot find them says which of its parts it left out.
if [[ -z ${SHOPFLOOR_TOOLS_BIN:-} ]]; then
  if tools_bin=$(bash scripts/build-tools.sh | tail -n 1); then
    export SHOPFLOOR_TOOLS_BIN=$tools_bin
  else
    echo "npm run bench: the real Kubernetes parts could not be built (see above); the benchmark runs without them" >&2
  fi
fi
exec node --import tsx "bench/$name.ts" "$@"
