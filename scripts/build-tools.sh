#!/usr/bin/env bash
# Builds the real Kubernetes parts Shopfloor is tested and measured beside — kube-apiserver,
# kube-controller-manager, kube-proxy, kubelet, kubectl, helm, crictl, containerd and
# containerd-shim-runc-v2 — from the versions pinned in tools/versions.env, into a cache outside
# the clone: ${XDG_CACHE_HOME:-~/.cache}/shopfloor/tools/<pin hash>/bin. A binary already there
# from the same pins and the same build flags is reused, not rebuilt. Prints what it built or
# reused and how long each step took; the last line is the bin directory.
#
# Usage: scripts/build-tools.sh [NAME...]   build all of them, or only the named binaries
#        scripts/build-tools.sh --bin-dir   print the bin directory for these pins; build nothing
#
# Needs Go at least as new as the go lines of tools/*/go.mod (/usr/local/go/bin is put on PATH)
# and the Go module proxy for modules not yet in the module cache. Builds run under nice -n 19:
# the machine is shared with running tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/tools
export PATH="/usr/local/go/bin:$PATH"

say() { echo "build-tools: $*" >&2; }
die() { say "$*"; exit 1; }

command -v go >/dev/null || die "no go command on PATH or in /usr/local/go/bin; install Go (tools/*/go.mod name the version each module needs)"

# The cache key: everything that decides what the binaries contain. Build flags are not in it;
# each binary's stamp holds them (below), so changing one binary's flags rebuilds only it.
key_inputs() {
  cat "$tools/versions.env" "$tools"/*/go.mod "$tools"/*/go.sum
  (cd "$tools/kubernetes" && go env GOVERSION GOOS GOARCH)
}
key=$(key_inputs | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/shopfloor/tools/$key
bin=$cache/bin

if [[ ${1:-} == --bin-dir ]]; then
  echo "$bin"
  exit 0
fi

"$tools/pin.sh" --check

# shellcheck source=../tools/versions.env
source "$tools/versions.env"

mkdir -p "$bin" "$cache/stamps"
cp "$tools/versions.env" "$cache/versions.env"
# One build at a time per cache: a second caller waits, then finds the binaries built.
exec 9>"$cache/.lock"
if ! flock -n 9; then
  say "waiting for another build-tools run on $cache"
  flock 9
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Sets flags to the go build flags for one program: the version variables and build tags each
# project's own release build sets (its Makefile, hack/lib or release script); all stripped
# (-s -w) and, below, -trimpath. Every binary is built with CGO_ENABLED=0: none of these needs
# cgo on Linux. That leaves out containerd's btrfs snapshotter and PKCS#11 image decryption
# (both cgo-only; overlayfs and plain images are what Shopfloor uses), and makes kubelet resolve
# DNS and users in Go rather than through libc.
build_flags() {
  local pkg=$1
  case $pkg in
    k8s.io/kubernetes/cmd/*)
      local minor=${KUBERNETES_VERSION#v1.} build_date x ldflags="-s -w"
      minor=${minor%%.*}
      # The release's date from the module proxy, so the same pins give the same binary. The
      # module zip carries no commit: gitCommit is set empty rather than left "$Format:%H$".
      build_date=$(cd "$tools/kubernetes" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
      for x in "gitVersion=$KUBERNETES_VERSION" gitMajor=1 "gitMinor=$minor" gitCommit= gitTreeState=clean "buildDate=$build_date"; do
        ldflags+=" -X k8s.io/component-base/version.$x -X k8s.io/client-go/pkg/version.$x"
      done
      flags=("-tags=selinux,notest,grpcnotrace" "-ldflags=$ldflags")
      ;;
    helm.sh/helm/v4/cmd/helm)
      flags=("-ldflags=-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean")
      ;;
    sigs.k8s.io/cri-tools/cmd/crictl)
      flags=("-ldflags=-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION")
      ;;
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2)
      flags=("-tags=urfave_cli_no_docs,no_grpc" "-ldflags=-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION")
      ;;
    github.com/containerd/containerd/v2/cmd/containerd)
      flags=("-tags=urfave_cli_no_docs" "-ldflags=-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION")
      ;;
    *) die "no build flags for $pkg: add it to build_flags in scripts/build-tools.sh" ;;
  esac
}

# Programs to build: the tool lines of each build module (tools/pin.sh writes them).
declare -A module_of=()
order=()
for dir in "$tools"/*/; do
  dir=${dir%/}
  [[ -f $dir/go.mod ]] || continue
  while read -r pkg; do
    module_of[$pkg]=$dir
    order+=("$pkg")
  done < <(awk '/^tool \(/ { block = 1; next } block && /^\)/ { block = 0 } block { print $1 } /^tool [^(]/ { print $2 }' "$dir/go.mod")
done

wanted=("$@")
if ((${#wanted[@]})); then
  for name in "${wanted[@]}"; do
    found=false
    for pkg in "${order[@]}"; do [[ ${pkg##*/} == "$name" ]] && found=true; done
    $found || die "unknown tool '$name': one of $(for p in "${order[@]}"; do printf '%s ' "${p##*/}"; done)"
  done
fi

is_wanted() {
  ((${#wanted[@]} == 0)) && return 0
  local w
  for w in "${wanted[@]}"; do [[ $w == "$1" ]] && return 0; done
  return 1
}

say "pins: $(grep -v '^#' "$tools/versions.env" | tr '\n' ' ')"
say "cache: $cache"
start_all=$(now)
declare -A fetched=()
built=0 reused=0
for pkg in "${order[@]}"; do
  name=${pkg##*/}
  is_wanted "$name" || continue
  dir=${module_of[$pkg]}
  build_flags "$pkg"
  stamp=$(printf '%s\n' "CGO_ENABLED=0" "$pkg" "${flags[@]}")
  if [[ -x $bin/$name && -f $cache/stamps/$name && $(cat "$cache/stamps/$name") == "$stamp" ]]; then
    say "reused $name"
    reused=$((reused + 1))
    continue
  fi
  # Modules first, timed apart: on a fresh machine they come from the Go module proxy. Listing
  # the imports of every program of the module, with this one's tags, fetches what they need.
  if [[ -z ${fetched[$dir]:-} ]]; then
    t=$(now)
    (cd "$dir" && go list -mod=readonly -deps "${flags[@]}" tool) >/dev/null
    say "modules for tools/${dir##*/} ready in $(since "$t")s"
    fetched[$dir]=1
  fi
  t=$(now)
  (cd "$dir" && CGO_ENABLED=0 nice -n 19 go build -mod=readonly -trimpath "${flags[@]}" -o "$bin/.$name.tmp" "$pkg")
  mv "$bin/.$name.tmp" "$bin/$name"
  printf '%s\n' "$stamp" >"$cache/stamps/$name"
  say "built $name in $(since "$t")s ($(du -h "$bin/$name" | cut -f1))"
  built=$((built + 1))
done
say "$built built, $reused reused in $(since "$start_all")s"
echo "$bin"
