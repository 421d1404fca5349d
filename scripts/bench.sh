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
exec node --import tsx "bench/$name.ts" "$@"
