#!/usr/bin/env bash
# Provision the local control plane's binaries: kube-apiserver and kube-controller-manager 1.20.2 built from
# Debian's `kubernetes` source package, etcd from Debian's `etcd-server`.
#
# Nothing is installed system-wide: apt runs against private state (lists, cache) derived from this machine's own
# apt sources, packages are unpacked into a private root, and the build tree is deleted afterwards. The result is
# cached under $AIRFLOW_K8S_RECONCILE_CACHE (default ~/.cache/airflow-k8s-reconcile), keyed by the Kubernetes
# version and the hash of this script, so a second run costs nothing.
#
# Usage: provision-control-plane.sh [--print-dir]
#   Prints progress on stderr and, on success, the asset directory (holding etcd, etcdctl, kube-apiserver and
#   kube-controller-manager) as the last line on stdout.
set -euo pipefail

K8S_VERSION=1.20.2
SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
SCRIPT_HASH=$(sha256sum "$SCRIPT_PATH" | cut -c1-12)
CACHE_ROOT=${AIRFLOW_K8S_RECONCILE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/airflow-k8s-reconcile}
DEST="$CACHE_ROOT/control-plane/k8s-$K8S_VERSION-$SCRIPT_HASH"
BINARIES=(etcd etcdctl kube-apiserver kube-controller-manager)
START=$SECONDS

log() { printf '[provision %4ss] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_complete() {
    [[ -f "$DEST/.complete" ]] || return 1
    local b
    for b in "${BINARIES[@]}"; do [[ -x "$DEST/$b" ]] || return 1; done
}

if is_complete; then
    log "control plane $K8S_VERSION already provisioned in $DEST"
    echo "$DEST"
    exit 0
fi

for tool in apt-get apt-cache dpkg tar make sha256sum flock; do
    command -v "$tool" >/dev/null || die "'$tool' not found. Provisioning needs a Debian/Ubuntu machine with apt; \
alternatively set KUBEBUILDER_ASSETS to a directory holding etcd and kube-apiserver (e.g. from setup-envtest)."
done
[[ $(dpkg --print-architecture) == amd64 || $(dpkg --print-architecture) == arm64 ]] \
    || die "unsupported architecture $(dpkg --print-architecture)"

mkdir -p "$CACHE_ROOT/control-plane"
exec 9>"$CACHE_ROOT/control-plane/.provision.lock"
log "waiting for the provisioning lock (another build may be running)"
flock 9
if is_complete; then
    log "provisioned by a concurrent run: $DEST"
    echo "$DEST"
    exit 0
fi

W=$(mktemp -d "$CACHE_ROOT/control-plane/build.XXXXXX")
cleanup() {
    local rc=$?
    [[ -n "${HEARTBEAT_PID:-}" ]] && kill "$HEARTBEAT_PID" 2>/dev/null || true
    if [[ $rc -ne 0 && -f "$W/build.log" ]]; then
        cp "$W/build.log" "$CACHE_ROOT/control-plane/last-failed-build.log" 2>/dev/null || true
        log "build log kept at $CACHE_ROOT/control-plane/last-failed-build.log"
    fi
    chmod -R u+w "$W" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W"/apt/{lists/partial,cache/archives/partial,sources.list.d} "$W"/{debs,sysroot,tools,src}

# --- 1. private apt sources: the machine's own Debian entries for this release, as deb + deb-src ----------------
. /etc/os-release
CODENAME=${VERSION_CODENAME:?/etc/os-release has no VERSION_CODENAME}
log "step 1/7: deriving deb-src entries for '$CODENAME' from this machine's apt sources"
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
    # deb822 paragraphs: keep only those whose Suites name this release (bookworm, bookworm-updates, ...),
    # restricted to those suites, with both binary and source types. Signed-By and URIs are kept verbatim.
    awk -v cn="$CODENAME" '
        BEGIN { RS = ""; FS = "\n" }
        {
            keep = 0; out = ""; enabled = 1
            for (i = 1; i <= NF; i++) {
                line = $i
                if (line ~ /^#/) continue
                if (line ~ /^Enabled:[[:space:]]*no/) enabled = 0
                if (line ~ /^Types:/) { line = "Types: deb deb-src" }
                else if (line ~ /^Suites:/) {
                    n = split(substr(line, 8), s, /[[:space:]]+/); suites = ""
                    for (j = 1; j <= n; j++) if (s[j] == cn || index(s[j], cn "-") == 1) suites = suites " " s[j]
                    if (suites != "") keep = 1
                    line = "Suites:" suites
                }
                out = out line "\n"
            }
            if (keep && enabled) printf "%s\n", out
        }' "$f" > "$W/apt/sources.list.d/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v cn="$CODENAME" '
        $1 == "deb" {
            # the suite is the first field after the URI (options in [...] may precede the URI)
            i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            suite = $(i + 1)
            if (suite == cn || index(suite, cn "-") == 1) { print; sub(/^deb/, "deb-src"); print }
        }' "$f" >> "$W/apt/sources.list.d/private.list"
done
grep -qs . "$W"/apt/sources.list.d/* || die "no apt source for '$CODENAME' found in /etc/apt; cannot provision"
APT=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$W/apt/sources.list.d"
     -o "Dir::State::Lists=$W/apt/lists" -o "Dir::Cache=$W/apt/cache"
     -o APT::Sandbox::User=root -o Debug::NoLocking=1 -o Acquire::Retries=3)

log "step 2/7: apt-get update (private lists)"
apt-get "${APT[@]}" update -qq >"$W/apt-update.log" 2>&1 || { cat "$W/apt-update.log" >&2; die "apt-get update failed"; }

# --- 2. downloads ---------------------------------------------------------------------------------------------
log "step 3/7: downloading the kubernetes source package"
(cd "$W/src" && apt-get "${APT[@]}" source --download-only -qq kubernetes >"$W/apt-source.log" 2>&1) \
    || { cat "$W/apt-source.log" >&2; die "apt-get source kubernetes failed"; }
ORIG=$(ls "$W"/src/kubernetes_*.orig.tar.* 2>/dev/null | head -1)
[[ -n "$ORIG" && "$ORIG" == *"$K8S_VERSION".orig.tar.* ]] \
    || die "the archive's kubernetes source is not upstream $K8S_VERSION: ${ORIG:-nothing downloaded}"
log "  $(basename "$ORIG") ($(du -h "$ORIG" | cut -f1))"

GO_PKG=$(apt-cache "${APT[@]}" depends golang-go 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^golang-[0-9.]+-go$/ {print $2; exit}')
[[ -n "$GO_PKG" ]] || die "cannot determine the Go toolchain package behind golang-go"
DEBS=("$GO_PKG" "${GO_PKG%-go}-src" etcd-server etcd-client
      golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev)
command -v rsync >/dev/null || DEBS+=(rsync libpopt0)
command -v jq >/dev/null || DEBS+=(jq libjq1 libonig5)
log "step 4/7: downloading ${DEBS[*]}"
(cd "$W/debs" && apt-get "${APT[@]}" download -qq "${DEBS[@]}" >"$W/apt-download.log" 2>&1) \
    || { cat "$W/apt-download.log" >&2; die "apt-get download failed"; }
log "  $(ls "$W"/debs/*.deb | wc -l) packages, $(du -sh "$W/debs" | cut -f1)"
for deb in "$W"/debs/*.deb; do dpkg -x "$deb" "$W/sysroot"; done

# --- 3. unpack and patch --------------------------------------------------------------------------------------
log "step 5/7: unpacking the source and swapping in reflect2 1.0.2 / json-iterator 1.1.12"
tar xf "$ORIG" -C "$W/src"
K=$(find "$W/src" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes*' | head -1)
[[ -f "$K/cmd/kube-apiserver/apiserver.go" ]] || die "unexpected source layout in $ORIG"
# Kubernetes 1.20 vendors reflect2 1.0.1, which is incompatible with Go >= 1.18: the apiserver starts and then
# dies ~30 s later (SIGSEGV in reflect2 UnsafeMapType.UnsafeIterate). Debian's 1.0.2 / 1.1.12 fix it.
V="$K/vendor/github.com"
GOCODE="$W/sysroot/usr/share/gocode/src/github.com"
[[ -d "$GOCODE/modern-go/reflect2" && -d "$GOCODE/json-iterator/go" ]] || die "reflect2/json-iterator sources missing"
rm -rf "$V/modern-go/reflect2" "$V/json-iterator/go"
cp -r "$GOCODE/modern-go/reflect2" "$V/modern-go/"
cp -r "$GOCODE/json-iterator/go" "$V/json-iterator/"
find "$V/modern-go/reflect2" "$V/json-iterator/go" -name '*_test.go' -delete

# --- 4. build -------------------------------------------------------------------------------------------------
GOROOT=$(find "$W/sysroot/usr/lib" -mindepth 1 -maxdepth 1 -type d -name 'go-*' | head -1)
[[ -x "$GOROOT/bin/go" ]] || die "Go toolchain not found in the unpacked packages"
LIBDIR=$(dirname "$(find "$W/sysroot" -name 'libpopt.so.0' -o -name 'libjq.so.1' 2>/dev/null | head -1)" 2>/dev/null || true)
for tool in rsync jq; do
    if ! command -v "$tool" >/dev/null; then
        printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$LIBDIR" "$W/sysroot/usr/bin/$tool" > "$W/tools/$tool"
        chmod +x "$W/tools/$tool"
    fi
done
export GOROOT PATH="$GOROOT/bin:$W/tools:$PATH" GOPROXY=off CGO_ENABLED=0 HOME="$W" GOCACHE="$W/gocache"
log "step 6/7: building kube-apiserver and kube-controller-manager with $("$GOROOT/bin/go" version | cut -d' ' -f3) (takes minutes; log: $W/build.log)"
( while sleep 30; do log "  building... ($(grep -c . "$W/build.log" 2>/dev/null || echo 0) log lines)"; done ) &
HEARTBEAT_PID=$!
if ! (cd "$K" && make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" \
        KUBE_GIT_VERSION="v$K8S_VERSION" KUBE_GIT_TREE_STATE=clean >"$W/build.log" 2>&1); then
    tail -40 "$W/build.log" >&2
    die "build failed"
fi
kill "$HEARTBEAT_PID" 2>/dev/null || true; HEARTBEAT_PID=

# --- 5. install into the cache --------------------------------------------------------------------------------
log "step 7/7: installing into $DEST"
STAGE="$DEST.tmp.$$"
rm -rf "$STAGE"; mkdir -p "$STAGE"
OUT=$(find "$K/_output" -type f -name kube-apiserver -path '*bin*' | head -1)
cp "$OUT" "$(dirname "$OUT")/kube-controller-manager" "$STAGE/"
cp "$W/sysroot/usr/bin/etcd" "$W/sysroot/usr/bin/etcdctl" "$STAGE/"
chmod 0755 "$STAGE"/*
{
    echo "kubernetes source: $(basename "$ORIG")"
    echo "kube-apiserver: $("$STAGE/kube-apiserver" --version)"
    echo "etcd: $("$STAGE/etcd" --version | head -1)"
    echo "go: $("$GOROOT/bin/go" version)"
    echo "script: $SCRIPT_HASH"
} > "$STAGE/VERSIONS"
touch "$STAGE/.complete"
rm -rf "$DEST"; mv "$STAGE" "$DEST"
sed 's/^/  /' "$DEST/VERSIONS" >&2
log "done in $((SECONDS - START)) s"
echo "$DEST"
