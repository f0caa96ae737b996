// cgroup2 operations shared by the Unified manager and the cgroup2 part of a Hybrid one.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "cgroup/cgfile.h"
#include "cgroup/stats.h"
#include "oci/spec.h"

namespace berth::cgroup::v2 {

// The controllers dir's cgroup.controllers offers.
std::vector<std::string> available_controllers(const std::string& dir);

// Enables controllers in cgroup.subtree_control of every directory from mount down to leaf's
// parent, so leaf gets their files. What a directory does not offer, or refuses, is skipped:
// the write that needs it then fails naming its field.
void enable_controllers(const Writer& w, const std::string& mount, const std::string& leaf,
                        const std::vector<std::string>& controllers);

// hugetlb.<size>.max (and .rsvd.max where the kernel has it).
Result<void> apply_hugetlb(const Writer& w, const std::string& mount, const std::string& dir,
                           const std::vector<oci::HugepageLimit>& limits);
// rdma.max lines "<device> hca_handle=N hca_object=M" (same format on v1).
Result<void> apply_rdma(const Writer& w, const std::string& dir,
                        const std::map<std::string, oci::RdmaLimit>& rdma);
// linux.resources.unified: raw key=value writes, enabling the key's controller if needed.
Result<void> apply_unified(const Writer& w, const std::string& mount, const std::string& dir,
                           const std::map<std::string, std::string>& unified);

void read_hugetlb(const std::string& dir, std::map<std::string, HugetlbStats>& out);

// cgroup.freeze, waiting for cgroup.events to agree.
Result<void> set_frozen(const Writer& w, const std::string& dir, bool frozen);
Result<bool> is_frozen(const std::string& dir);

// cgroup.kill where the kernel has it (5.14+), then SIGKILL until empty; bounded.
Result<void> kill_all(const Writer& w, const std::string& dir);

}  // namespace berth::cgroup::v2
