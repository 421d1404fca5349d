#!/usr/bin/env bash
# `npm test`: installs what is missing, then lint, type check, build, and every jest suite
# (unit tests beside the code, integration and end-to-end suites in test/). Extra arguments go
# to jest, e.g. `npm test -- api/`. Jest's JSON results land in test-results/jest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent lint
npm run --silent typecheck
npm run --silent build
mkdir -p test-results
npm run --silent jest -- --json --outputFile=test-results/jest.json "$@"
