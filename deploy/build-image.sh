#!/usr/bin/env bash
# Builds Remora's container image offline, from Debian's apt mirror only.
#
#   deploy/build-image.sh [--prebuilt BUILD_DIR] [--tag IMAGE]
#
# 1. Base image `localhost/remora-base:bookworm`: a minbase Debian rootfs made with debootstrap
#    from the apt mirror this machine is configured with, then `podman import`ed. Reused when it
#    exists, so only the first run pays for it.
# 2. `podman build -f deploy/Containerfile` on top of it:
#    - default: the `runtime` stage, which compiles remora and the filters from source in a
#      build stage (the production recipe);
#    - --prebuilt BUILD_DIR: the `runtime-prebuilt` stage, which copies remora, the filter .so
#      files and the demo upstream from an existing CMake build on this machine (also Debian 12,
#      so the same libraries) instead of compiling again. Tests use it: it skips the compile.
#
# Environment:
#   REMORA_PODMAN_ROOT   image storage (podman --root/--runroot live under it);
#                        default /var/tmp/remora-podman
#   REMORA_APT_MIRROR    Debian mirror URL; default: the first Debian URI in /etc/apt/sources*
#   REMORA_BASE_IMAGE    base image name; default localhost/remora-base:bookworm
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
store="${REMORA_PODMAN_ROOT:-/var/tmp/remora-podman}"
base_image="${REMORA_BASE_IMAGE:-localhost/remora-base:bookworm}"
tag="localhost/remora:dev"
prebuilt=""

while (($#)); do
  case "$1" in
    --prebuilt) prebuilt="$(cd "$2" && pwd)"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$store"
# crun refuses this machine's hybrid cgroups and the sandbox cannot raise rlimits: runc plus
# explicit ulimits, for the RUN steps of the build as for `podman run`.
conf="$store/containers.conf"
if [[ ! -f "$conf" ]]; then
  cat >"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
fi
export CONTAINERS_CONF="$conf"
podman_() { podman --root "$store/root" --runroot "$store/runroot" "$@"; }

# The Debian mirror and security mirror apt on this machine uses (one-line or deb822 sources).
apt_uris() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | awk '/^[[:space:]]*#/ {next}
      /^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; break}}
      /^URIs:/ {for (i = 2; i <= NF; i++) print $i}'
}
mirror="${REMORA_APT_MIRROR:-$(apt_uris | grep -E '/debian/?$' | head -n1 || true)}"
security="$(apt_uris | grep -E '/debian-security/?$' | head -n1 || true)"
if [[ -z "$mirror" ]]; then
  echo "build-image.sh: no Debian mirror in /etc/apt/sources*; set REMORA_APT_MIRROR" >&2
  exit 1
fi

if podman_ image exists "$base_image"; then
  echo "base image $base_image: present, reused"
else
  echo "base image $base_image: debootstrap from $mirror"
  rootfs="$(mktemp -d "$store/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$store/debootstrap.log" 2>&1 || {
    tail -n 30 "$store/debootstrap.log" >&2
    exit 1
  }
  {
    echo "deb $mirror bookworm main"
    echo "deb $mirror bookworm-updates main"
    [[ -n "$security" ]] && echo "deb $security bookworm-security main"
  } >"$rootfs/etc/apt/sources.list"
  # Images stay small: no apt caches, no docs or man pages from later installs.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
DPKG
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman_ import - "$base_image" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi

if [[ -n "$prebuilt" ]]; then
  # The build context is a small staging folder (not the whole build tree): the binaries,
  # the filters and the files the runtime stage copies.
  ctx="$(mktemp -d "$store/context.XXXXXX")"
  trap 'rm -rf "$ctx"' EXIT
  mkdir -p "$ctx/prebuilt/filters" "$ctx/deploy"
  # Stripped, as the build stage does: the debug info of a RelWithDebInfo build is most of
  # the binaries' size.
  strip -o "$ctx/prebuilt/remora" "$prebuilt/proxy/remora"
  strip -o "$ctx/prebuilt/remora-demo-upstream" "$prebuilt/tools/remora-demo-upstream"
  for f in "$prebuilt"/filters/*.so; do
    strip --strip-unneeded -o "$ctx/prebuilt/filters/${f##*/}" "$f"
  done
  cp "$repo/deploy/remora.yaml" "$ctx/deploy/"
  podman_ build --target runtime-prebuilt --build-arg "BASE=$base_image" \
    -f "$repo/deploy/Containerfile" -t "$tag" "$ctx"
else
  podman_ build --target runtime --build-arg "BASE=$base_image" \
    -f "$repo/deploy/Containerfile" -t "$tag" "$repo"
fi
echo "built $tag (storage $store)"
