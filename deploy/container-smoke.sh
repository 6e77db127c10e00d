#!/usr/bin/env bash
# Builds deploy/Dockerfile exactly as shipped with podman, runs the image as Kubernetes would, checks its answers,
# and removes what it built. CI calls it after ./test.sh (.ci/run); a person can run it too, as root:
#
#   sudo deploy/container-smoke.sh            # build, run, check, clean up (stand-in base images stay cached)
#   sudo deploy/container-smoke.sh --purge    # the same, then also delete the cached stand-ins and all state
#
# Why stand-ins: the Dockerfile's base images (mcr.microsoft.com/dotnet/{sdk,aspnet}:10.0) live in a registry this
# project's machines cannot reach. The script makes local images with those exact names instead: a Debian
# bookworm minbase (debootstrap, from the mirror apt already uses) with this machine's own .NET copied in, the
# same `app` user (uid 1654) and environment as Microsoft's images, and, in the sdk stand-in, the model in /models
# where the Dockerfile's `lookout models fetch` finds it (it still checks size and SHA-256). The Dockerfile itself
# is not touched: `podman build --pull=never` simply finds those names locally. Where the real registry is
# reachable, `podman build -f deploy/Dockerfile .` needs none of this.
#
# What is known to work in this project's sandboxes (Debian 12, root, no CAP_SYS_RESOURCE, hybrid cgroups):
# podman with runc (crun 1.8 refuses hybrid cgroups), cgroupfs, the file events logger, ulimits no higher than
# the hard limits, storage given as --root/--runroot/--tmpdir flags, --format docker (OCI drops HEALTHCHECK),
# --network host for the build, and the host's CA store mounted read-only into the build so `dotnet restore`
# trusts a TLS-intercepting egress.
#
# Where containers cannot run (no podman and no way to install it, not root, podman cannot start a container),
# it says so loudly and exits 1: it never passes without having run the image.
#
# Settings (environment): LOOKOUT_SMOKE_DIR (state and cache, default /var/tmp/lookout-container-smoke),
# LOOKOUT_SMOKE_KEEP=1 (keep the built image and the container's logs for a look afterwards),
# LOOKOUT_ASSET_DIRS (where yolox_nano.onnx is found; ../shared/models is looked in too),
# DEBIAN_MIRROR (default: the first deb.debian.org-style URI apt uses here).
set -eEuo pipefail
# Everything is in main, which bash reads whole before running it: editing this file while it runs is safe.
main() {
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
repo=$(pwd)
purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    -h|--help) sed -n '2,28p' "$self"; exit 0 ;;
    *) echo "unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
# set -e stops at the first failing command; say which one, so that no failure is silent.
trap 'echo "container-smoke.sh: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { printf '\n=== [%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() {
  {
    echo
    echo "########################################################################"
    echo "#  CONTAINER SMOKE TEST FAILED"
    printf '#  %s\n' "$@"
    echo "########################################################################"
  } >&2
  exit 1
}

# --- 1. podman, runc, debootstrap -----------------------------------------------------------------------------
step "prerequisites"
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then exec sudo -E "$self" "$@"; fi
  fail "containers cannot be run here: this needs root (rootful podman; the known-working recipe is root)," \
       "and sudo is not available without a password. Run: sudo $self"
fi
source "$repo/scripts/prerequisites.sh"
missing=0
for tool in podman runc debootstrap curl python3; do command -v "$tool" >/dev/null 2>&1 || missing=1; done
if [ $missing = 1 ]; then
  lookout_ensure_packages podman runc debootstrap curl python3 ca-certificates \
    || fail "containers cannot be run here: podman, runc or debootstrap is missing and could not be installed."
fi
echo "podman $(podman --version | awk '{print $3}'), $(runc --version | head -1), debootstrap $(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null || echo '?')"

state=${LOOKOUT_SMOKE_DIR:-/var/tmp/lookout-container-smoke}
mkdir -p "$state/storage" "$state/run" "$state/tmp"
# podman's default ulimits exceed what this sandbox may set (setrlimit: Operation not permitted).
hard_files=$(ulimit -Hn); hard_procs=$(ulimit -Hu)
[ "$hard_files" = unlimited ] && hard_files=1048576
{ [ "$hard_procs" = unlimited ] || [ "$hard_procs" -gt 32768 ]; } && hard_procs=32768
cat > "$state/containers.conf" <<EOF
# Written by deploy/container-smoke.sh.
[containers]
default_ulimits = ["nofile=$hard_files:$hard_files", "nproc=$hard_procs:$hard_procs"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$state/containers.conf"
no_timer_noise() { grep -v 'unable to get systemd connection' >&2 || true; }
pm() { podman --root "$state/storage" --runroot "$state/run" --tmpdir "$state/tmp" "$@"; }
pm info >"$state/tmp/info.txt" 2>&1 || fail "containers cannot be run here: 'podman info' fails:" "$(tail -5 "$state/tmp/info.txt")"
echo "storage $state/storage (driver $(pm info --format '{{.Store.GraphDriverName}}')), runtime $(pm info --format '{{.Host.OCIRuntime.Name}}'), cgroups $(pm info --format '{{.Host.CgroupsVersion}}')"
storage_before=$(du -sxm "$state/storage" | cut -f1)

# The model the sdk stand-in carries in /models.
model=""
IFS=: read -r -a asset_dirs <<< "${LOOKOUT_ASSET_DIRS:-}"
for d in "${asset_dirs[@]}" "$repo/../shared/models"; do
  [ -n "$d" ] && [ -f "$d/yolox_nano.onnx" ] && { model=$(readlink -f "$d/yolox_nano.onnx"); break; }
done
[ -n "$model" ] || fail "yolox_nano.onnx not found: looked in LOOKOUT_ASSET_DIRS (${LOOKOUT_ASSET_DIRS:-unset}) and $repo/../shared/models"
dog=""
for d in "${asset_dirs[@]}" "$repo/../shared/images"; do
  [ -n "$d" ] && [ -f "$d/dog.jpg" ] && { dog=$(readlink -f "$d/dog.jpg"); break; }
done
[ -n "$dog" ] || fail "dog.jpg not found: looked in LOOKOUT_ASSET_DIRS (${LOOKOUT_ASSET_DIRS:-unset}) and $repo/../shared/images"

# This machine's .NET goes into the stand-ins.
lookout_ensure_dotnet || fail "no .NET 10 SDK to put into the sdk stand-in"
dotnet_bin=$(command -v dotnet)
dotnet_root=$(dirname "$(readlink -f "$dotnet_bin")")
runtime_version=$(ls "$dotnet_root/shared/Microsoft.AspNetCore.App" | sort -V | tail -1)
sdk_version=$(ls "$dotnet_root/sdk" | sort -V | tail -1)
case "$runtime_version" in 10.*) ;; *) fail "the .NET in $dotnet_root has ASP.NET Core $runtime_version, not 10.x" ;; esac

# --- 2. stand-ins for the base images (cached between runs) -------------------------------------------------------
step "stand-in base images"
mirror=${DEBIAN_MIRROR:-$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } \
  | grep -oE '^(URIs:|deb) *https?://[^ ]+/debian/?( |$)' | grep -oE 'https?://[^ ]+' | head -1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
security=${mirror%/debian}/debian-security
# A change to any input of a stand-in (this recipe, the .NET copied in, the model) rebuilds them all.
standin_key=$( { sed -n '/^# --- 2\./,/^# --- 3\./p' "$self"; echo "$mirror $runtime_version $sdk_version"; ls -l "$dotnet_root/shared"/*/; sha256sum "$model"; } | sha256sum | cut -c1-16)
base=localhost/lookout-standin/debian-minbase:bookworm
have_key() { [ "$(pm image inspect --format '{{index .Labels "org.lookout.standin"}}' "$1" 2>/dev/null || true)" = "$standin_key" ]; }

if have_key mcr.microsoft.com/dotnet/sdk:10.0 && have_key mcr.microsoft.com/dotnet/aspnet:10.0; then
  echo "cached (key $standin_key): $base, mcr.microsoft.com/dotnet/{runtime-deps,aspnet,sdk}:10.0"
else
  if ! have_key "$base"; then
    # Stand-ins from other inputs: this storage is the script's own, so everything in it goes.
    pm rmi -a -f >/dev/null 2>&1 || true
    rootfs="$state/tmp/rootfs"
    rm -rf "$rootfs"
    echo "debootstrap --variant=minbase bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$state/tmp/debootstrap.log" 2>&1 \
      || fail "debootstrap failed (log: $state/tmp/debootstrap.log):" "$(tail -5 "$state/tmp/debootstrap.log")"
    printf 'deb %s bookworm bookworm-updates main\ndeb %s bookworm-security main\n' "$mirror" "$security" > "$rootfs/etc/apt/sources.list"
    # As in Debian's and Ubuntu's official images (which Microsoft's build on): apt deletes downloaded packages
    # after installing them, so an image's apt layer holds the installed files only.
    cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    echo 'Acquire::Languages "none";' > "$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    # The host's Acquire settings (a proxy, or a mirror whose Release files are past Valid-Until) apply inside too.
    grep -h '^Acquire::' /etc/apt/apt.conf /etc/apt/apt.conf.d/* 2>/dev/null | grep -v Languages > "$rootfs/etc/apt/apt.conf.d/99host-acquire" || true
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    tar -C "$rootfs" -c . | pm import --change 'CMD ["bash"]' --change "LABEL org.lookout.standin=$standin_key" - "$base" >/dev/null
    rm -rf "$rootfs"
  fi
  # The first container this machine starts: where it cannot, nothing further can work.
  out=$(pm run --rm --network none "$base" true 2>&1) \
    || fail "containers cannot be run here: podman cannot start a container from $base:" "$out"
  ctx="$state/tmp/context"; rm -rf "$ctx"; mkdir -p "$ctx"
  # runtime-deps: what Microsoft's image adds to its distribution (the libraries .NET needs, user app 1654).
  cat > "$ctx/runtime-deps.Containerfile" <<EOF
FROM $base
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates libc6 libgcc-s1 libicu72 libssl3 libstdc++6 tzdata zlib1g \\
 && rm -rf /var/lib/apt/lists/*
ENV APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_RUNNING_IN_CONTAINER=true
RUN groupadd --gid=1654 app && useradd --no-log-init --uid=1654 --gid=1654 --create-home app
EOF
  pm build --pull=never --format docker --network host --label "org.lookout.standin=$standin_key" \
    -t mcr.microsoft.com/dotnet/runtime-deps:10.0 -f "$ctx/runtime-deps.Containerfile" "$ctx" \
    || fail "building the runtime-deps stand-in failed"
  # aspnet: the .NET and ASP.NET Core runtimes, as in /usr/share/dotnet of Microsoft's image.
  cat > "$ctx/aspnet.Containerfile" <<EOF
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
ENV DOTNET_VERSION=$runtime_version ASPNET_VERSION=$runtime_version
RUN mkdir -p /usr/share/dotnet/shared \\
 && cp -a /host-dotnet/dotnet /host-dotnet/host /usr/share/dotnet/ \\
 && cp -a /host-dotnet/shared/Microsoft.NETCore.App /host-dotnet/shared/Microsoft.AspNetCore.App /usr/share/dotnet/shared/ \\
 && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet && dotnet --list-runtimes
EOF
  pm build --pull=never --format docker --network none --label "org.lookout.standin=$standin_key" \
    -v "$dotnet_root:/host-dotnet:ro" -t mcr.microsoft.com/dotnet/aspnet:10.0 -f "$ctx/aspnet.Containerfile" "$ctx" \
    || fail "building the aspnet stand-in failed"
  # sdk: the whole SDK, and the model where the Dockerfile's fetch (LOOKOUT_CACHE_DIR=/models) finds it.
  cat > "$ctx/sdk.Containerfile" <<EOF
FROM mcr.microsoft.com/dotnet/aspnet:10.0
ENV DOTNET_SDK_VERSION=$sdk_version DOTNET_USE_POLLING_FILE_WATCHER=true NUGET_XMLDOC_MODE=skip DOTNET_NOLOGO=1
RUN cp -an /host-dotnet/. /usr/share/dotnet/ && mkdir -p /models && cp /host-models/$(basename "$model") /models/ \\
 && dotnet --list-sdks
EOF
  pm build --pull=never --format docker --network none --label "org.lookout.standin=$standin_key" \
    -v "$dotnet_root:/host-dotnet:ro" -v "$(dirname "$model"):/host-models:ro" \
    -t mcr.microsoft.com/dotnet/sdk:10.0 -f "$ctx/sdk.Containerfile" "$ctx" || fail "building the sdk stand-in failed"
  rm -rf "$ctx"
  pm image prune -f >/dev/null   # images the new tags replaced
fi
pm images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E 'lookout-standin|mcr.microsoft.com' | sort

# --- 3. the Lookout image, from the unmodified deploy/Dockerfile --------------------------------------------------
image=localhost/lookout:smoke
name=lookout-smoke-$$
images_before=$(pm images -a -q --no-trunc | sort -u)
cleanup() {
  local rc=$?
  set +e
  trap - ERR
  if [ "${LOOKOUT_SMOKE_KEEP:-0}" = 1 ]; then
    echo "LOOKOUT_SMOKE_KEEP=1: left container $name and image $image in $state/storage"
  else
    step "clean up"
    pm rm -f -v "$name" >/dev/null 2>&1
    # Build containers a failed build may leave behind (this storage is the script's own).
    for c in $(pm ps -a -q --external 2>/dev/null); do pm rm -f "$c" >/dev/null 2>&1; done
    for id in $(comm -13 <(printf '%s\n' "$images_before") <(pm images -a -q --no-trunc | sort -u)); do
      pm rmi -f "$id" >/dev/null 2>&1
    done
    pm volume prune -f >/dev/null 2>&1
    if [ $purge = 1 ]; then
      pm system reset -f >/dev/null 2>&1
      rm -rf "$state"
      echo "purged $state (stand-ins included)"
    else
      echo "removed the container, its volumes, $image and its build layers; stand-ins cached in $state/storage" \
           "($(du -sxm "$state/storage" | cut -f1) MB; was $storage_before MB before this run; --purge deletes them)"
      pm images --format '{{.Repository}}:{{.Tag}}' | sed 's/^/  left: /'
    fi
  fi
  [ $rc = 0 ] && step "CONTAINER SMOKE TEST PASSED"
  exit $rc
}
trap cleanup EXIT

# The Dockerfile as it is in the checkout: this script never edits it (the stand-ins carry its FROM names).
origin=$(git -C "$repo" log -1 --format='commit %h' -- deploy/Dockerfile 2>/dev/null || true)
[ -n "$(git -C "$repo" status --porcelain -- deploy/Dockerfile 2>/dev/null)" ] && origin="$origin + uncommitted changes"
step "podman build --pull=never --format docker -f deploy/Dockerfile (unmodified by this script; ${origin:-not a git checkout}; sha256 $(sha256sum deploy/Dockerfile | cut -c1-12))"
build_started=$(date +%s)
pm build --pull=never --format docker --network host -v /etc/ssl/certs:/etc/ssl/certs:ro \
  -f deploy/Dockerfile -t "$image" . || fail "podman build of deploy/Dockerfile failed"
build_s=$(( $(date +%s) - build_started ))
echo "built in $build_s s; container storage now $(du -sxm "$state/storage" | cut -f1) MB (stand-ins, build layers, image)"

step "image size and layers"
size=$(pm image inspect --format '{{.Size}}' "$image")
aspnet_size=$(pm image inspect --format '{{.Size}}' mcr.microsoft.com/dotnet/aspnet:10.0)
awk -v i="$image" -v s="$size" -v a="$aspnet_size" \
  'BEGIN { printf "image %s: %.1f MB; aspnet stand-in %.1f MB; Lookout adds %.1f MB on top of aspnet\n", i, s/1e6, a/1e6, (s-a)/1e6 }'
pm history --format '{{.Size}}\t{{.CreatedBy}}' "$image" | cut -c1-150
healthcheck=$(pm image inspect --format '{{json .Config.Healthcheck}}' "$image")
[ "$healthcheck" != null ] || fail "the image has no HEALTHCHECK (built without --format docker?)"
echo "HEALTHCHECK $healthcheck"
echo "USER $(pm image inspect --format '{{.Config.User}}' "$image")"

# --- 4. run it as Kubernetes would ---------------------------------------------------------------------------------
step "podman run --read-only as the image's user, published on 127.0.0.1 only"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# readOnlyRootFilesystem, emptyDirs for /var/cache/lookout and /tmp, all capabilities dropped, no privilege escalation.
# podman times HEALTHCHECKs with systemd timers; without systemd it logs that it cannot (filtered out below), and
# `podman healthcheck run` runs the image's check once instead (Kubernetes ignores HEALTHCHECK; its probes are in
# deploy/kubernetes).
pm run -d --name "$name" --read-only --read-only-tmpfs=false \
  --tmpfs /tmp:rw,mode=1777,size=64m --tmpfs /var/cache/lookout:rw,mode=1777,size=256m \
  --cap-drop=all --security-opt=no-new-privileges -p "127.0.0.1:$port:5000" "$image" >/dev/null 2> >(no_timer_noise) \
  || fail "podman run of $image failed"
run_started=$(date +%s.%N)
ready=""
for _ in $(seq 240); do
  if [ "$(pm inspect --format '{{.State.Running}}' "$name")" != true ]; then
    pm logs "$name" 2>&1 | tail -30
    fail "the container stopped before /readyz answered 200 (its log is above)"
  fi
  code=$(curl -s -o "$state/tmp/readyz.json" -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
  [ "$code" = 200 ] && { ready=$(cat "$state/tmp/readyz.json"); break; }
  sleep 0.5
done
[ -n "$ready" ] || { pm logs "$name" 2>&1 | tail -30; fail "/readyz did not answer 200 within 120 s (last: ${code:-none})"; }
echo "GET /readyz -> 200 after $(since "$run_started") s: $ready"
echo "published: $(pm port "$name")"
pm port "$name" | grep -qv '127.0.0.1' && fail "the port is published beyond 127.0.0.1: $(pm port "$name")"

step "a detection on dog.jpg"
answer=$(curl -sS -w '\n%{http_code}' -F "image=@$dog" "http://127.0.0.1:$port/api/v1/detect")
code=${answer##*$'\n'}; body=${answer%$'\n'*}
[ "$code" = 200 ] || fail "POST /api/v1/detect dog.jpg answered $code: $body"
python3 - "$body" <<'PY' || fail "the detection on dog.jpg has no dog: $body"
import json, sys
r = json.loads(sys.argv[1])
found = [f"{d['label']} {d['score']:.2f}" for d in r["detections"]]
print(f"POST /api/v1/detect dog.jpg -> 200, model {r['model']}: {', '.join(found)}")
sys.exit(0 if any(d["label"] == "dog" and d["score"] >= 0.5 for d in r["detections"]) else 1)
PY

step "podman healthcheck run, user, read-only root, baked model"
health=$(pm healthcheck run "$name" 2>&1) || fail "podman healthcheck run: $health"
echo "podman healthcheck run -> ${health:-healthy}"
uid=$(pm exec "$name" id -u)
echo "uid in the container: $uid ($(pm exec "$name" id -un))"
[ "$uid" = 1654 ] || fail "the container runs as uid $uid, not 1654"
if pm exec "$name" touch /opt/lookout/probe 2>/dev/null; then fail "the root file system is writable"; fi
echo "root file system read-only: touch /opt/lookout/probe refused"
pm exec "$name" ls -l /opt/lookout/models
cached=$(pm exec "$name" ls -A /var/cache/lookout)
[ -z "$cached" ] || fail "the model was downloaded into /var/cache/lookout ($cached) instead of coming from the image"
echo "nothing downloaded into /var/cache/lookout: the model came from the image"

step "stop and remove"
stop_started=$(date +%s.%N)
pm stop -t 10 "$name" >/dev/null 2> >(no_timer_noise)
echo "stopped in $(since "$stop_started") s, exit code $(pm inspect --format '{{.State.ExitCode}}' "$name")"
pm logs "$name" 2>&1 | tail -5 | sed 's/^/  log: /'
pm rm -v "$name" >/dev/null 2> >(no_timer_noise)
echo "total $(( $(date +%s) - started )) s (image build $build_s s)"
}
main "$@"
