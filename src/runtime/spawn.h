// Cloning a process into new namespaces, directly or through an intermediate that first
// enters namespaces which only apply to children (pid, user, time).
#pragma once

#include <sys/types.h>

#include <functional>

#include "base/result.h"
#include "runtime/channel.h"

namespace berth::runtime {

// clone3 without a new stack (fork semantics) into `flags`; the child runs `child` and must
// not return. The child gets SIGKILL if the caller dies before it clears PDEATHSIG.
// cgroup_fd >= 0: a cgroup2 directory the child starts in (CLONE_INTO_CGROUP).
Result<pid_t> clone_child(unsigned long flags, const std::function<void()>& child,
                          int cgroup_fd = -1);

// Forks an intermediate that runs `enter` (setns and friends), then clones the real child
// with CLONE_PARENT so it is the caller's child too, reports its pid on `chan` and exits.
// Returns the real child's pid.
// `parent_end` is the caller's end of the channel, `child_end` the one the children use.
// cgroup_fd >= 0: the real child is cloned into that cgroup2 directory where the kernel lets
// the intermediate do so; *cloned_into (when given) says whether it was.
Result<pid_t> clone_via_intermediate(unsigned long flags, Channel& parent_end, Channel& child_end,
                                     const std::function<Result<void>()>& enter,
                                     const std::function<void()>& child, int cgroup_fd = -1,
                                     bool* cloned_into = nullptr);

// Waits for a child and returns its status as a shell reports it (128+signal).
Result<int> wait_exit_code(pid_t pid);

}  // namespace berth::runtime
