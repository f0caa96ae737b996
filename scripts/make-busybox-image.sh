#!/usr/bin/env bash
# Builds a tiny, deterministic container image from Debian's busybox-static.
#
# Usage: scripts/make-busybox-image.sh OUT.tar [NAME:TAG]
#        (NAME:TAG defaults to busybox:latest)
#
# OUT.tar is an OCI image layout archive (oci-layout, index.json, blobs/sha256/...)
# that also carries a docker-archive manifest.json pointing at the same blobs, so
# it loads with (checked with containerd 1.6.20 and podman 4.3.1):
#   ctr -n NS image import OUT.tar   -> docker.io/library/NAME:TAG, or NAME:TAG as given
#                                       when it has a registry host (io.containerd.image.name;
#                                       org.opencontainers.image.ref.name holds just TAG)
#   podman load -i OUT.tar           -> localhost/... or docker.io/... NAME:TAG
# Use a fully qualified name (e.g. localhost/berthtest/busybox:1) to get the same
# name in both.
#
# Contents: /bin/busybox plus a symlink for every applet (busybox --list-full),
# /etc/{passwd,group,hostname,hosts}, empty /dev /proc /sys /tmp /root /run /var.
# The single layer is an uncompressed tar by default (safest for docker-archive
# readers); BUSYBOX_IMAGE_GZIP=1 gzips it (ctr and podman load that variant too).
# Output is byte-for-byte reproducible: fixed mtimes, sorted entries, uid/gid 0.
#
# Needs only bash, coreutils, GNU tar, gzip and sha256sum.
set -euo pipefail

out=${1:?usage: make-busybox-image.sh OUT.tar [NAME:TAG]}
ref=${2:-busybox:latest}
busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-0}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

case "$ref" in
  *:*) name=${ref%:*}; tag=${ref##*:} ;;
  *)   name=$ref; tag=latest ;;
esac
# Fully qualified name the way containerd/docker normalise it.
first=${name%%/*}
if [[ "$name" != */* ]]; then
  fqname="docker.io/library/$name"
elif [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then
  fqname=$name
else
  fqname="docker.io/$name"
fi
fqref="$fqname:$tag"

[ -x "$busybox" ] || { echo "make-busybox-image: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
"$busybox" --list-full >/dev/null 2>&1 || { echo "make-busybox-image: $busybox is not a busybox with --list-full" >&2; exit 1; }

case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l|armv6l) arch=arm ;;
  i?86) arch=386 ;; ppc64le) arch=ppc64le ;; s390x) arch=s390x ;; riscv64) arch=riscv64 ;;
  *) arch=$(uname -m) ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/busybox-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 022

# ---- root filesystem -------------------------------------------------------
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,run,var/tmp,home}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
chmod 0700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
while IFS= read -r applet; do
  case "$applet" in ""|linuxrc|bin/busybox) continue ;; esac
  mkdir -p "$rootfs/$(dirname "$applet")"
  [ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
done < <("$busybox" --list-full | LC_ALL=C sort)
cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOF
echo busybox > "$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$rootfs/etc/hosts"
: > "$rootfs/etc/resolv.conf"
chmod 0644 "$rootfs"/etc/*

TAR_DET=(--sort=name --format=gnu --owner=0 --group=0 --numeric-owner --mtime="@$epoch")

# ---- blobs -------------------------------------------------------------------
blobs=$work/image/blobs/sha256
mkdir -p "$blobs"
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
put() { # put FILE -> prints hex digest, moves the file into blobs/
  local h; h=$(sha "$1"); mv "$1" "$blobs/$h"; echo "$h"
}

(cd "$rootfs" && tar "${TAR_DET[@]}" -cf "$work/layer.tar" .)
diffid=$(sha "$work/layer.tar")
if [ "${BUSYBOX_IMAGE_GZIP:-0}" = 1 ]; then
  gzip -n -9 "$work/layer.tar"
  layer_file=$work/layer.tar.gz
  layer_mt=application/vnd.oci.image.layer.v1.tar+gzip
else
  layer_file=$work/layer.tar
  layer_mt=application/vnd.oci.image.layer.v1.tar
fi
layer_size=$(size "$layer_file")
layer=$(put "$layer_file")

printf '%s' "{\"architecture\":\"$arch\",\"os\":\"linux\",\"created\":\"$created\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diffid\"]},\"history\":[{\"created\":\"$created\",\"created_by\":\"make-busybox-image.sh (busybox-static)\"}]}" > "$work/config.json"
config_size=$(size "$work/config.json")
config=$(put "$work/config.json")

printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config\",\"size\":$config_size},\"layers\":[{\"mediaType\":\"$layer_mt\",\"digest\":\"sha256:$layer\",\"size\":$layer_size}]}" > "$work/manifest"
manifest_size=$(size "$work/manifest")
manifest=$(put "$work/manifest")

# ---- OCI layout + docker-archive manifest -----------------------------------------
img=$work/image
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$img/oci-layout"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest\",\"size\":$manifest_size,\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"},\"annotations\":{\"io.containerd.image.name\":\"$fqref\",\"org.opencontainers.image.ref.name\":\"$tag\"}}]}" > "$img/index.json"
printf '%s' "[{\"Config\":\"blobs/sha256/$config\",\"RepoTags\":[\"$name:$tag\"],\"Layers\":[\"blobs/sha256/$layer\"]}]" > "$img/manifest.json"
chmod 0644 "$img"/*.json "$img/oci-layout" "$blobs"/*

mkdir -p "$(dirname "$out")"
(cd "$img" && tar "${TAR_DET[@]}" -cf "$work/out.tar" oci-layout index.json manifest.json blobs)
mv "$work/out.tar" "$out"
echo "$out: $fqref manifest sha256:$manifest ($(size "$out") bytes)" >&2
