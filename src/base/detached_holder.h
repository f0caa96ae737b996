// Some kernel work is done, as far as anyone can observe, before the syscall that asked for it
// returns, yet the syscall keeps the caller waiting for the kernel to free memory afterwards:
// deleting a network device waits for rcu_barrier() after the device is already unlisted, and
// releasing an nf_tables socket waits one RCU grace period for deleted set elements to be
// freed. A CNI plugin's caller (kubelet, containerd, podman) waits for the plugin's exit, so
// those waits are theirs. A detached holder takes them instead: a grandchild, reparented at
// once to init or the nearest subreaper, that runs the waiting call and keeps this process's
// sockets open until this process has exited, so their release happens in it.
#pragma once

#include <functional>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth {

// Forks the holder. It gets /dev/null as stdio and closes every inherited descriptor that is
// not a socket (no lock, pipe or file outlives this process through it), runs `work` (may be
// empty), sends work's result (0 or an errno) on the returned socket, waits until this process
// has exited, then exits itself. The returned socket may be read or closed at any time.
Result<UniqueFd> spawn_detached_holder(const std::function<int()>& work = {});

}  // namespace berth
