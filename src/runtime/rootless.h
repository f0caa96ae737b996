// Rootless containers: what an unprivileged caller gets of linux.resources. Limits need a
// directory of the container's cgroup that the caller may write (a delegated cgroup); where
// their controller has none, they are left out with a warning, as runc's --rootless=auto.
#pragma once

#include <string>
#include <vector>

#include "cgroup/manager.h"
#include "oci/spec.h"

namespace berth::runtime {

// euid not 0, or root of a user namespace other than the initial one.
bool rootless();

// Removes from r the limits `cg` has no controller directory for and returns their field
// names ("linux.resources.memory"). Device rules are always removed and not listed: an
// unprivileged caller can set them nowhere (v1 devices.allow and cgroup2 device programs
// both need CAP_SYS_ADMIN on the host), and the user namespace keeps it from mknod anyway.
std::vector<std::string> drop_unreachable_limits(const cgroup::Manager& cg, oci::Resources& r);

// One runc-style warning naming the limits not applied: to stderr, and to the --log file
// when there is one.
void warn_limits_not_applied(const std::vector<std::string>& fields);

}  // namespace berth::runtime
