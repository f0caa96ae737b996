#!/usr/bin/env bash
# Makes an OCI bundle from Debian's busybox-static: DIR/rootfs with busybox and its applets,
# DIR/config.json from `berth-runtime spec`, set to run ARGS without a terminal.
# Usage: scripts/make-bundle.sh DIR [ARGS...]   (default ARGS: sh)
set -euo pipefail
dir=${1:?usage: make-bundle.sh DIR [ARGS...]}; shift
runtime=${BERTH_RUNTIME:-$(cd "$(dirname "$0")/.." && pwd)/build/bin/berth-runtime}
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/etc" \
    "$dir/rootfs/tmp" "$dir/rootfs/root"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ -e "$dir/rootfs/bin/$applet" ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
rm -f "$dir/config.json"
(cd "$dir" && "$runtime" spec)
args_json=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.argv[1:] or ["sh"]))' "$@")
/usr/bin/python3 - "$dir/config.json" "$args_json" <<'PY'
import json, sys
path, args = sys.argv[1], json.loads(sys.argv[2])
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
json.dump(c, open(path, "w"), indent=2)
PY
