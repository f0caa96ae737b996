# Shared by the bench/ scripts: the runtimes under test and the cleanup of a test cgroup
# tree. Source it with `name` set to the calling script's name (for messages).

# Sets PY, berth, crun, runc, busybox and spec_tool (the runtime whose `spec` seeds bundles).
find_runtimes() {
  PY=/usr/bin/python3
  [ -x "$PY" ] || PY=python3
  berth=${BERTH_RUNTIME:-$repo/build/bin/berth-runtime}
  crun=$(command -v "${CRUN:-crun}" || true)
  runc=$(command -v "${RUNC:-runc}" || PATH=$PATH:/usr/sbin:/sbin command -v "${RUNC:-runc}" || true)
  busybox=${BUSYBOX:-/bin/busybox}
  # runc's own spec even when RUNC names another binary: crun 1.8 refuses newer ociVersions.
  spec_tool=$(PATH=$PATH:/usr/sbin:/sbin command -v runc || echo "${runc:-$crun}")
  [ -n "$spec_tool" ] || { echo "$name: need runc or crun to generate the OCI spec" >&2; exit 1; }
}

# Kills whatever is left in the cgroup tree named $1 under every hierarchy, then removes it:
# best effort, for a run that failed half-way; a clean run leaves nothing to do here.
remove_cgroup_tree() {
  local cg=$1 d
  for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
    [ -d "$d" ] || continue
    find "$d" -name freezer.state -exec sh -c 'echo THAWED > "$1"' sh {} \; 2>/dev/null || true
    find "$d" -name cgroup.procs -exec sh -c 'xargs -r kill -9 < "$1"' sh {} \; 2>/dev/null || true
  done
  sleep 0.1
  for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}
