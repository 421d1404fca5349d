#!/usr/bin/env bash
# `npm test`: installs what is missing and builds the real Kubernetes parts (scripts/build-tools.sh),
# then lint, type check, build, and every jest suite (unit tests beside the code, integration and
# end-to-end suites in test/), the integration suites that talk to an API server a second time
# against the real kube-apiserver, and the pod suites a second time on the pinned containerd 2
# (with crictl as their witness of what runs). Extra arguments go to jest, e.g. `npm test -- api/`.
# Jest's JSON results land in test-results/jest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
# The real Kubernetes parts (tools/versions.env), built once into a cache outside the clone; the
# suites that run against kube-apiserver as well as the devcluster, the pod suites on containerd 2
# as well as Debian's, and the Helm chart's suites (helm), find them through this.
if tools_bin=$(bash scripts/build-tools.sh | tail -n 1); then
  export SHOPFLOOR_TOOLS_BIN=$tools_bin
else
  echo "npm test: the real Kubernetes parts could not be built (see above), so the suites of jest.config.js's KUBE_APISERVER_SUITES run against the devcluster only, not again against kube-apiserver, its POD_SUITES on Debian's containerd only, not again on the pinned containerd 2, and without crictl's witness, and the Helm chart's suites (its TOOLS_BIN_SUITES, which run the built helm) do not run" >&2
  if [[ ${CI:-} == true ]]; then
    echo "npm test: CI=true: that is a failure" >&2
    exit 1
  fi
fi
npm run --silent lint
npm run --silent typecheck
npm run --silent build
mkdir -p test-results
npm run --silent jest -- --json --outputFile=test-results/jest.json "$@"
