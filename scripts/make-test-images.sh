#!/usr/bin/env bash
# Builds the multi-layer test images the unpacking tests use, from Debian's busybox-static.
#
# Usage: scripts/make-test-images.sh OUTDIR
#
# For each image NAME, OUTDIR/NAME/ is an OCI image layout (index.json tags it "latest", so
# `umoci unpack --image OUTDIR/NAME:latest` reads it) and OUTDIR/NAME.tar the same layout as an
# oci-archive that also carries a docker-archive manifest.json (like make-busybox-image.sh).
# The image is named localhost/berth-test/NAME:latest (io.containerd.image.name).
#
#   layers         3 layers: busybox and every file kind (gzip), whiteouts and an opaque
#                  directory (uncompressed), type changes and re-added files (gzip). Covers
#                  hard links, relative/absolute/dangling symlinks, char and block devices, a
#                  fifo, setuid/setgid/sticky/0600 modes, uid 1000, a user.* xattr, a directory
#                  whose parents the tar never lists.
#   layers-zstd    the same files with zstd layers 1 and 3: its rootfs equals layers'.
#   many           busybox plus 59 small layers, each whiting out the previous one's file
#                  (an overlay of 60 lower directories).
#   evil-dotdot    busybox plus a layer with "../../escaped-dotdot"
#   evil-absolute  busybox plus a layer with "/escaped-absolute"
#   evil-symlink   busybox plus a layer with "escape -> ../../../..", then "escape/escaped-symlink"
#   evil-hardlink  busybox plus a layer with a hard link to "../../../etc/passwd"
#   evil-whiteout  busybox plus a layer with ".wh..." (whiting out the parent)
# Unpacking an evil-* image must fail naming the entry, leaving nothing behind.
#
# Output is byte-for-byte reproducible (fixed mtimes, fixed entry order, gzip without names or
# times, zstd -19). Needs bash, python3 (tarfile), zstd and /bin/busybox.
set -euo pipefail

out=${1:?usage: make-test-images.sh OUTDIR}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-test-images: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
command -v zstd >/dev/null || { echo "make-test-images: zstd not found (apt-get install zstd)" >&2; exit 1; }
case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l|armv6l) arch=arm ;;
  i?86) arch=386 ;; ppc64le) arch=ppc64le ;; s390x) arch=s390x ;; riscv64) arch=riscv64 ;;
  *) arch=$(uname -m) ;;
esac
mkdir -p "$out"

exec python3 - "$out" "$busybox" "$arch" <<'PY'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

out, busybox_path, arch = sys.argv[1], sys.argv[2], sys.argv[3]
MTIME = 1700000000

def entry(name, kind="file", data=b"", mode=0o644, uid=0, gid=0, target="", dev=(0, 0),
          xattrs=None):
    t = tarfile.TarInfo(name)
    t.mtime, t.uid, t.gid, t.mode = MTIME, uid, gid, mode
    t.uname = t.gname = ""
    if kind == "file":
        t.type, t.size = tarfile.REGTYPE, len(data)
    elif kind == "dir":
        t.type = tarfile.DIRTYPE
    elif kind == "symlink":
        t.type, t.linkname = tarfile.SYMTYPE, target
    elif kind == "hardlink":
        t.type, t.linkname = tarfile.LNKTYPE, target
    elif kind in ("chr", "blk"):
        t.type = tarfile.CHRTYPE if kind == "chr" else tarfile.BLKTYPE
        t.devmajor, t.devminor = dev
    elif kind == "fifo":
        t.type = tarfile.FIFOTYPE
    if xattrs:
        t.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    return (t, data if kind == "file" else None)

def d(name, mode=0o755, **kw): return entry(name, "dir", mode=mode, **kw)
def f(name, data, mode=0o644, **kw): return entry(name, "file", data=data, mode=mode, **kw)
def ln(name, target): return entry(name, "symlink", mode=0o777, target=target)
def hl(name, target): return entry(name, "hardlink", target=target)

def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for t, data in entries:
            tf.addfile(t, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def compress(raw, how):
    if how == "gzip":
        b = io.BytesIO()
        with gzip.GzipFile(fileobj=b, mode="wb", mtime=0, compresslevel=9, filename="") as g:
            g.write(raw)
        return b.getvalue(), "application/vnd.oci.image.layer.v1.tar+gzip"
    if how == "zstd":
        z = subprocess.run(["zstd", "-q", "-19", "-c"], input=raw, stdout=subprocess.PIPE,
                           check=True).stdout
        return z, "application/vnd.oci.image.layer.v1.tar+zstd"
    return raw, "application/vnd.oci.image.layer.v1.tar"

def busybox_entries():
    bb = open(busybox_path, "rb").read()
    applets = subprocess.run([busybox_path, "--list-full"], stdout=subprocess.PIPE, check=True,
                             text=True).stdout.split()
    es = [d("./")]
    for p in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys",
              "root", "run", "var", "home"]:
        es.append(d(p, 0o700 if p == "root" else 0o755))
    es += [d("tmp", 0o1777), d("var/tmp", 0o1777), f("bin/busybox", bb, 0o755)]
    seen = {"bin/busybox"}
    for a in sorted(applets):
        if a in seen or a == "linuxrc" or os.path.dirname(a) not in (
                "bin", "sbin", "usr/bin", "usr/sbin"):
            continue
        seen.add(a)
        es.append(ln(a, "/bin/busybox"))
    es += [
        f("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"
          b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
        f("etc/group", b"root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n"),
        f("etc/hostname", b"busybox\n"),
        f("etc/hosts", b"127.0.0.1\tlocalhost\n::1\tlocalhost\n"),
    ]
    return es

def layer1():
    """Every kind of entry, on top of busybox."""
    return busybox_entries() + [
        f("etc/removeme", b"removed by layer 2\n"),
        f("etc/secret", b"0600\n", 0o600),
        f("etc/xattr-file", b"has a user xattr\n", xattrs={"user.berth.test": "hello"}),
        ln("etc/rel-link", "hostname"),
        ln("etc/abs-link", "/etc/hostname"),
        ln("etc/dangling", "/nonexistent/target"),
        d("gone"), f("gone/a", b"a\n"), d("gone/sub"), f("gone/sub/b", b"b\n"),
        d("opq"), f("opq/old1", b"old1\n"), f("opq/old2", b"old2\n"), d("opq/keepdir"),
        d("usr/share"), d("usr/share/hl"),
        f("usr/share/hl/one", b"hard linked\n"), hl("usr/share/hl/two", "usr/share/hl/one"),
        hl("usr/share/three", "usr/share/hl/one"),
        f("usr/bin/suid", b"#!/bin/sh\necho suid\n", 0o4755),
        f("usr/bin/sgid", b"#!/bin/sh\necho sgid\n", 0o2711),
        d("usr/share/setgid-dir", 0o2775, gid=1000),
        d("home/user", 0o750, uid=1000, gid=1000),
        f("home/user/file", b"owned by 1000\n", 0o640, uid=1000, gid=1000),
        entry("dev/null", "chr", mode=0o666, dev=(1, 3)),
        entry("dev/loop-test", "blk", mode=0o660, dev=(7, 200)),
        entry("run/fifo", "fifo", mode=0o620),
        d("replace-me"), f("replace-me/inside", b"dir replaced by a file in layer 3\n"),
        f("f2d", b"file replaced by a dir in layer 3\n"),
        d("usr/lib"), ln("lib", "usr/lib"), f("usr/lib/libfake.so", b"\x7fELF fake\n"),
        f("empty", b""),
        d("mode-dir", 0o711),
    ]

def layer2():
    """Whiteouts, an opaque directory, changes to layer 1's files."""
    return [
        d("etc"), f("etc/.wh.removeme", b""),
        f(".wh.gone", b""),
        d("opq"), f("opq/.wh..wh..opq", b""), f("opq/new", b"new in layer 2\n"),
        f("etc/hostname", b"layer2\n"),
        d("home/user", 0o700, uid=1000, gid=1000),
        # No entries for implicit/ or implicit/deep/: made on the way.
        f("implicit/deep/file", b"parents not in the tar\n", 0o600, uid=1000, gid=100),
        f("hl2/a", b"second link pair\n"), hl("hl2/b", "hl2/a"),
        d("mode-dir", 0o755),
    ]

def layer3():
    """Type changes, re-added files, a directory over a whiteout, whiteouts in opaque dirs."""
    return [
        f("replace-me", b"now a file\n", 0o600),
        d("f2d", 0o700), f("f2d/child", b"child\n"),
        d("etc"), f("etc/removeme", b"back in layer 3\n"),
        d("gone"), f("gone/new", b"only this, none of layer 1\n"),
        d("opq"), f("opq/.wh.new", b""), f("opq/newer", b"layer 3\n"),
        f("usr/bin/suid", b"#!/bin/sh\necho suid v2\n", 0o4750),
    ]

def write_image(name, layers):
    """layers: [(entries, compression)] lowest first."""
    root = os.path.join(out, name)
    blobs = os.path.join(root, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    files = {}
    def put(data):
        h = hashlib.sha256(data).hexdigest()
        files["blobs/sha256/" + h] = data
        return h
    descs, diff_ids = [], []
    for entries, how in layers:
        raw = tar_bytes(entries)
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        blob, mt = compress(raw, how)
        descs.append({"mediaType": mt, "digest": "sha256:" + put(blob), "size": len(blob)})
    created = "2023-11-14T22:13:20Z"
    config = json.dumps({
        "architecture": arch, "os": "linux", "created": created,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": "make-test-images.sh"}] * len(layers),
    }, separators=(",", ":"), sort_keys=True).encode()
    config_hex = put(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + config_hex, "size": len(config)},
        "layers": descs,
    }, separators=(",", ":"), sort_keys=True).encode()
    manifest_hex = put(manifest)
    fq = "localhost/berth-test/%s:latest" % name
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    files["index.json"] = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + manifest_hex, "size": len(manifest),
                       "platform": {"architecture": arch, "os": "linux"},
                       "annotations": {"io.containerd.image.name": fq,
                                       "org.opencontainers.image.ref.name": "latest"}}],
    }, separators=(",", ":"), sort_keys=True).encode()
    files["manifest.json"] = json.dumps([{
        "Config": "blobs/sha256/" + config_hex, "RepoTags": [fq],
        "Layers": [d["digest"].replace("sha256:", "blobs/sha256/") for d in descs],
    }], separators=(",", ":")).encode()
    for path, data in files.items():
        p = os.path.join(root, path)
        with open(p, "wb") as fh:
            fh.write(data)
        os.chmod(p, 0o644)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for dname in ("blobs", "blobs/sha256"):
            t = tarfile.TarInfo(dname)
            t.type, t.mode, t.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tf.addfile(t)
        for path in sorted(files):
            t = tarfile.TarInfo(path)
            t.size, t.mode, t.mtime = len(files[path]), 0o644, MTIME
            tf.addfile(t, io.BytesIO(files[path]))
    with open(os.path.join(out, name + ".tar"), "wb") as fh:
        fh.write(archive.getvalue())
    print("%s: %s, %d layers, manifest sha256:%s" % (os.path.join(out, name), fq, len(layers),
                                                    manifest_hex), file=sys.stderr)

base = busybox_entries()
write_image("layers", [(layer1(), "gzip"), (layer2(), "none"), (layer3(), "gzip")])
write_image("layers-zstd", [(layer1(), "zstd"), (layer2(), "none"), (layer3(), "zstd")])
many = [(base, "gzip")]
for i in range(1, 60):
    es = [d("layers"), f("layers/%02d" % i, b"layer %d\n" % i, 0o600 if i % 2 else 0o644)]
    if i > 1:
        es.insert(1, f("layers/.wh.%02d" % (i - 1), b""))
    many.append((es, "none"))
write_image("many", many)
write_image("evil-dotdot", [(base, "gzip"), ([d("etc"), f("../../escaped-dotdot", b"x\n")], "none")])
write_image("evil-absolute", [(base, "gzip"), ([f("/escaped-absolute", b"x\n")], "none")])
write_image("evil-symlink", [(base, "gzip"), ([ln("escape", "../../../.."),
                                               f("escape/escaped-symlink", b"x\n")], "none")])
write_image("evil-hardlink", [(base, "gzip"), ([d("etc"), hl("etc/pw", "../../../etc/passwd")],
                                                "none")])
write_image("evil-whiteout", [(base, "gzip"), ([d("etc"), f("etc/.wh...", b"")], "none")])
PY
