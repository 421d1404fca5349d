#!/usr/bin/env bash
# Regenerates the build modules tools/<component>/go.mod and go.sum from tools/versions.env.
#
# Each upstream project gets a module of its own that requires only that project, so the go
# command selects exactly the dependency versions the project's own go.mod names: the binaries
# are built from the same dependency set as the project's releases (one module for all four
# would raise Kubernetes's grpc, otel and x/net to what containerd and helm ask for).
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, client-go, ...) at v0.0.0 and
# replaces them with ./staging/src/k8s.io/*, directories its module zip does not hold. Our module
# replaces each with the release published beside Kubernetes v1.X.Y, v0.X.Y. The list is read
# from that version's go.mod, so a bump needs no hand-kept list.
#
# Usage: tools/pin.sh           regenerate every go.mod and go.sum (needs the Go module proxy)
#        tools/pin.sh --check   change nothing; exit 1 naming what disagrees with versions.env
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH"

check=false
case "${1:-}" in
  --check) check=true ;;
  '') ;;
  *) echo "pin.sh: unknown argument '$1': give none, or --check" >&2; exit 2 ;;
esac

# shellcheck source=versions.env
source ./versions.env

# directory, upstream module, the versions.env variable naming its version, the programs built
components=(
  "kubernetes k8s.io/kubernetes KUBERNETES_VERSION cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-proxy cmd/kubelet cmd/kubectl"
  "helm helm.sh/helm/v4 HELM_VERSION cmd/helm"
  "cri-tools sigs.k8s.io/cri-tools CRI_TOOLS_VERSION cmd/crictl"
  "containerd github.com/containerd/containerd/v2 CONTAINERD_VERSION cmd/containerd cmd/containerd-shim-runc-v2"
)

# Evaluates a JavaScript expression over the JSON on stdin (bound to m) and prints the result.
# node rather than jq: this is a Node project, so node is on every machine that runs this.
json() {
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () =>
    console.log(new Function("m", `return (${process.argv[1]})`)(JSON.parse(s))))' "$1"
}

# The upstream module's go.mod as JSON (go mod download fetches only the .mod when that is all
# that is asked for; -json prints where it is).
upstream_go_mod_json() {
  local mod
  mod=$(go mod download -json "$1" | json 'm.GoMod')
  go mod edit -json "$mod"
}

# The staging modules of k8s.io/kubernetes at $1: those it both requires and replaces with a
# ./staging path (it also replaces sample modules it never requires, not published every release).
staging_modules() {
  upstream_go_mod_json "k8s.io/kubernetes@$1" | json '
    m.Replace.filter((r) => r.New.Path.startsWith("./staging/") && m.Require.some((q) => q.Path === r.Old.Path))
      .map((r) => r.Old.Path).join("\n")'
}

staging_version() {
  if [[ ! $1 =~ ^v1\.([0-9]+\.[0-9]+)$ ]]; then
    echo "pin.sh: KUBERNETES_VERSION is '$1'; want a release v1.X.Y (its staging modules are v0.X.Y)" >&2
    return 1
  fi
  echo "v0.${BASH_REMATCH[1]}"
}

check_component() {
  local dir=$1 module=$2 version=$3 have problems=()
  if [[ ! -f $dir/go.mod || ! -f $dir/go.sum ]]; then
    echo "pin.sh: tools/$dir/go.mod or go.sum is missing; run tools/pin.sh" >&2
    return 1
  fi
  have=$(go mod edit -json "$dir/go.mod" | json "m.Require.find((r) => r.Path === '$module')?.Version ?? 'nothing'")
  [[ $have == "$version" ]] || problems+=("requires $module $have, versions.env names $version")
  if [[ $module == k8s.io/kubernetes ]]; then
    local want replaces m
    want=$(staging_version "$version")
    replaces=$(go mod edit -json "$dir/go.mod" | json '(m.Replace ?? []).map((r) => `${r.Old.Path} ${r.New.Path}@${r.New.Version}`).join("\n")')
    while read -r m; do
      grep -qxF "$m $m@$want" <<<"$replaces" || problems+=("does not replace $m with $want")
    done < <(staging_modules "$version")
  fi
  if ((${#problems[@]})); then
    printf 'pin.sh: tools/%s/go.mod %s; run tools/pin.sh\n' "$dir" "${problems[@]}" >&2
    return 1
  fi
}

generate_component() {
  local dir=$1 module=$2 version=$3
  shift 3
  local upstream go_line godebug edits=()
  upstream=$(upstream_go_mod_json "$module@$version")
  # Our go and godebug lines are upstream's, so the binaries get the GODEBUG defaults its own
  # builds get (the main module's go line sets them; a dependency's is ignored).
  go_line=$(json 'm.Go' <<<"$upstream")
  godebug=$(json '(m.GoDebug ?? []).map((g) => `${g.Key}=${g.Value}`).join("\n")' <<<"$upstream")

  mkdir -p "$dir"
  rm -f "$dir/go.mod" "$dir/go.sum"
  printf 'module shopfloor.dev/tools/%s\n' "$dir" >"$dir/go.mod"
  edits+=("-go=$go_line" "-require=$module@$version")
  local g cmd m
  while read -r g; do [[ -n $g ]] && edits+=("-godebug=$g"); done <<<"$godebug"
  for cmd; do edits+=("-tool=$module/$cmd"); done
  if [[ $module == k8s.io/kubernetes ]]; then
    local want
    want=$(staging_version "$version")
    while read -r m; do edits+=("-replace=$m=$m@$want"); done < <(staging_modules "$version")
  fi
  (cd "$dir" && go mod edit "${edits[@]}" && go mod tidy)
  echo "pin.sh: tools/$dir/go.mod requires $module $version"
}

failed=0
for c in "${components[@]}"; do
  read -r dir module var cmds <<<"$c"
  version=${!var:?"pin.sh: versions.env does not set $var"}
  if $check; then
    check_component "$dir" "$module" "$version" || failed=1
  else
    # shellcheck disable=SC2086 # cmds is a space-separated list
    generate_component "$dir" "$module" "$version" $cmds
  fi
done
exit $failed
