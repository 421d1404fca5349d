#!/usr/bin/env bash
# Installs what Shopfloor needs on a Debian machine: npm packages, and (as root) the Debian
# packages for the real parts — etcd, containerd, runc, crun, CNI plugins, nftables, iptables,
# conntrack, busybox-static, and python3-kubernetes (the Python client the client suites drive,
# test/clients/). With --test (`npm test`), also what only the tests need: chromium, the browser
# the floor page's suite drives (test/floor/). Idempotent: installs only what is missing, after
# one apt-get update.
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=false
case ${1:-} in
  --test) for_tests=true ;;
  '') ;;
  *) echo "usage: install-deps.sh [--test]" >&2; exit 2 ;;
esac

# command-or-file → Debian package that provides it
declare -A wanted=(
  [etcd]=etcd-server
  [containerd]=containerd
  [runc]=runc
  [crun]=crun
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [nft]=nftables
  [iptables]=iptables
  [conntrack]=conntrack
  [busybox]=busybox-static
  [ip]=iproute2
  [openssl]=openssl
  # Debian's python3 reads it from here; python3-kubernetes brings python3 along.
  [/usr/lib/python3/dist-packages/kubernetes/__init__.py]=python3-kubernetes
)
if $for_tests; then wanted[/usr/bin/chromium]=chromium; fi
missing=()
for need in "${!wanted[@]}"; do
  if [[ $need == /* ]]; then [[ -e $need ]] && continue
  else command -v "$need" >/dev/null 2>&1 && continue
  fi
  missing+=("${wanted[$need]}")
done
if ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "shopfloor: missing Debian packages: ${missing[*]}" >&2
    echo "shopfloor: install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "shopfloor: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is absent or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
