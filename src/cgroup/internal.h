// What open() hands the layout-specific managers: the resolved directory in each hierarchy.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/cgfile.h"
#include "cgroup/hierarchy.h"
#include "cgroup/manager.h"

namespace berth::cgroup {

struct HierarchyDir {
    Hierarchy hierarchy;
    std::string dir;  // the container's cgroup in this hierarchy
};

struct ManagerSetup {
    Layout layout = Layout::Legacy;
    std::vector<HierarchyDir> v1;         // Legacy and Hybrid
    std::optional<HierarchyDir> unified;  // Hybrid: the cgroup2 part; Unified: the cgroup
    CgroupPath path;
    Writer writer;
};

std::unique_ptr<Manager> make_v1_manager(ManagerSetup setup);
std::unique_ptr<Manager> make_v2_manager(ManagerSetup setup);
// Rootless with no usable hierarchy: a cgroup that is not there (rootless.cpp).
std::unique_ptr<Manager> make_null_manager(Layout layout);
// Rootless: whether dir exists and we may move processes into it, or we may create it
// (its nearest existing ancestor below mountpoint is writable and searchable by us).
bool rootless_usable(const std::string& dir, const std::string& mountpoint);

// rmdir of the default "/berth" parent once its last container is gone; busy is fine.
void remove_default_parent(const std::string& leaf_dir);
// SelfJoin for these directories (`tasks` in each v1 one; the cgroup2 one may be empty).
Result<SelfJoin> open_self_join_files(const std::vector<std::string>& v1_dirs,
                                      const std::string& unified_dir);

}  // namespace berth::cgroup
