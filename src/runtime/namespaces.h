// Namespace kinds, the clone flags for those to create, the fds of those to join, and the
// user-namespace id maps the parent writes for a child.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/spec.h"

namespace berth::runtime {

std::optional<int> namespace_flag(const std::string& type);
// The spec's name for a kind: CLONE_NEWNET -> "network".
const char* namespace_type_name(int flag);
// The /proc/PID/ns/<name> entry for a kind: "network" -> "net".
const char* namespace_proc_name(int flag);

struct JoinNs {
    int flag = 0;
    UniqueFd fd;
    std::string path;
};

struct NamespacePlan {
    int create_flags = 0;        // CLONE_NEW* to create
    std::vector<JoinNs> join;    // in the order they must be entered (user first)
    bool joins(int flag) const;  // true when `join` has that kind
    bool has(int flag) const { return (create_flags & flag) || joins(flag); }
};

// Opens every namespace path (so a bad path fails before anything is created) and computes
// the flags. Errors name "linux.namespaces[i].path".
Result<NamespacePlan> plan_namespaces(const oci::Spec& spec);

// Parent side: writes /proc/PID/{uid_map,gid_map} (and setgroups when needed). As root,
// directly; unprivileged, directly only a map of the caller's own euid/egid (size 1, after
// setgroups "deny" for gids), anything else through newuidmap/newgidmap (id_maps.h).
// Errors name linux.uidMappings or linux.gidMappings.
Result<void> write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                           const std::vector<oci::IdMapping>& gids);
// Before anything is created: fails when write_id_maps would need a helper that is missing.
Result<void> check_id_maps_writable(const std::vector<oci::IdMapping>& uids,
                                    const std::vector<oci::IdMapping>& gids);
// Parent or intermediate side: /proc/PID/timens_offsets before any process enters the ns.
Result<void> write_time_offsets(pid_t pid, const oci::Linux& linux);

}  // namespace berth::runtime
