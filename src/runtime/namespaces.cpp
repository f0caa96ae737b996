#include "runtime/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "runtime/id_maps.h"

#include <algorithm>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::runtime {

std::optional<int> namespace_flag(const std::string& type) {
    if (type == "pid") return CLONE_NEWPID;
    if (type == "network") return CLONE_NEWNET;
    if (type == "mount") return CLONE_NEWNS;
    if (type == "ipc") return CLONE_NEWIPC;
    if (type == "uts") return CLONE_NEWUTS;
    if (type == "user") return CLONE_NEWUSER;
    if (type == "cgroup") return CLONE_NEWCGROUP;
    if (type == "time") return CLONE_NEWTIME;
    return std::nullopt;
}

const char* namespace_type_name(int flag) {
    switch (flag) {
        case CLONE_NEWPID:
            return "pid";
        case CLONE_NEWNET:
            return "network";
        case CLONE_NEWNS:
            return "mount";
        case CLONE_NEWIPC:
            return "ipc";
        case CLONE_NEWUTS:
            return "uts";
        case CLONE_NEWUSER:
            return "user";
        case CLONE_NEWCGROUP:
            return "cgroup";
        case CLONE_NEWTIME:
            return "time";
    }
    return "?";
}

const char* namespace_proc_name(int flag) {
    switch (flag) {
        case CLONE_NEWPID:
            return "pid";
        case CLONE_NEWNET:
            return "net";
        case CLONE_NEWNS:
            return "mnt";
        case CLONE_NEWIPC:
            return "ipc";
        case CLONE_NEWUTS:
            return "uts";
        case CLONE_NEWUSER:
            return "user";
        case CLONE_NEWCGROUP:
            return "cgroup";
        case CLONE_NEWTIME:
            return "time";
    }
    return "?";
}

bool NamespacePlan::joins(int flag) const {
    for (auto& j : this->join)
        if (j.flag == flag) return true;
    return false;
}

Result<NamespacePlan> plan_namespaces(const oci::Spec& spec) {
    NamespacePlan plan;
    if (!spec.linux) return plan;
    const auto& nss = spec.linux->namespaces;
    for (size_t i = 0; i < nss.size(); ++i) {
        std::string field = "linux.namespaces[" + std::to_string(i) + "]";
        auto flag = namespace_flag(nss[i].type);
        if (!flag)
            return Error(EINVAL) << field << ".type: unknown namespace type \"" << nss[i].type
                                 << "\"";
        if (nss[i].path.empty()) {
            plan.create_flags |= *flag;
            continue;
        }
        auto fd = open_fd(nss[i].path, O_RDONLY);
        if (!fd) return std::move(fd).error().wrap(field + ".path");
        // setns with the type checks that the file is a namespace of that kind; do the same
        // check now, before anything exists.
        JoinNs j{*flag, std::move(*fd), nss[i].path};
        plan.join.push_back(std::move(j));
    }
    // The user namespace is entered first: it owns whatever is created or joined after it.
    std::stable_partition(plan.join.begin(), plan.join.end(),
                          [](const JoinNs& j) { return j.flag == CLONE_NEWUSER; });
    return plan;
}

namespace {

const char* search_path() {
    const char* p = ::getenv("PATH");
    return p ? p : "";
}

// What an unprivileged caller needs for maps other than its own id: the helper's path.
Result<std::string> helper_for(bool uid) {
    const char* name = uid ? "newuidmap" : "newgidmap";
    return find_id_map_helper(name, search_path(), uid ? "linux.uidMappings" : "linux.gidMappings");
}

}  // namespace

Result<void> check_id_maps_writable(const std::vector<oci::IdMapping>& uids,
                                    const std::vector<oci::IdMapping>& gids) {
    if (::geteuid() == 0) return {};
    if (!uids.empty() && !is_own_id_map(uids, ::geteuid())) BERTH_TRY(helper_for(true));
    if (!gids.empty() && !is_own_id_map(gids, ::getegid())) BERTH_TRY(helper_for(false));
    return {};
}

Result<void> write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                           const std::vector<oci::IdMapping>& gids) {
    std::string base = "/proc/" + std::to_string(pid);
    // Root writes any map itself; so may anyone a map of just their own id (for gids, once
    // setgroups is denied in the namespace: otherwise dropping a group could grant access).
    const bool root = ::geteuid() == 0;
    if (!uids.empty()) {
        if (root || is_own_id_map(uids, ::geteuid())) {
            BERTH_TRY_CTX(write_file(base + "/uid_map", id_map_text(uids)), "linux.uidMappings");
        } else {
            std::string helper = BERTH_TRY(helper_for(true));
            BERTH_TRY(run_id_map_helper(helper, pid, uids, "linux.uidMappings"));
        }
    }
    if (!gids.empty()) {
        if (root) {
            BERTH_TRY_CTX(write_file(base + "/gid_map", id_map_text(gids)), "linux.gidMappings");
        } else if (is_own_id_map(gids, ::getegid())) {
            BERTH_TRY_CTX(write_file(base + "/setgroups", "deny"), "linux.gidMappings");
            BERTH_TRY_CTX(write_file(base + "/gid_map", id_map_text(gids)), "linux.gidMappings");
        } else {
            std::string helper = BERTH_TRY(helper_for(false));
            BERTH_TRY(run_id_map_helper(helper, pid, gids, "linux.gidMappings"));
        }
    }
    return {};
}

Result<void> write_time_offsets(pid_t pid, const oci::Linux& linux) {
    if (linux.time_offsets.empty()) return {};
    std::string text;
    for (auto& [clock, off] : linux.time_offsets)
        text += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
    std::string path = "/proc/" + std::to_string(pid) + "/timens_offsets";
    // One write per line: the kernel takes one clock per write.
    for (auto& line : split(text, '\n')) {
        if (line.empty()) continue;
        BERTH_TRY_CTX(write_file(path, line), "linux.timeOffsets");
    }
    return {};
}

}  // namespace berth::runtime
