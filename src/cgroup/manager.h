// One container's cgroup across whatever layout the host has: v1 (a directory per controller
// hierarchy), unified v2, or the hybrid (v1 controllers plus a cgroup2 mount at
// /sys/fs/cgroup/unified). Implementations hide the differences; callers see one interface.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cgroup/stats.h"
#include "oci/spec.h"

namespace berth::cgroup {

enum class Layout { Legacy, Hybrid, Unified };

// How a new process joins the container's cgroup without anyone writing its pid to a
// cgroup.procs file. That write takes the kernel's global cgroup_threadgroup_rwsem for writing,
// which waits for an RCU grace period: 5-25 ms, most of a `create`. A single-threaded process
// that writes "0" to a v1 `tasks` file moves itself without that lock, and clone3 with
// CLONE_INTO_CGROUP starts a child inside a cgroup2 directory.
struct SelfJoin {
    std::vector<UniqueFd> tasks;          // v1 `tasks` files, opened for writing (the kernel
    std::vector<std::string> task_paths;  // checks the opener's credentials, not the writer's)
    UniqueFd clone_into;                  // the cgroup2 directory; invalid on Legacy
};

// In the new process, single-threaded: moves it through each `tasks` file, then closes them.
Result<void> join_self(SelfJoin& join);

class Manager {
  public:
    virtual ~Manager() = default;

    // Creates the cgroup directories (idempotent). Nothing is written yet.
    virtual Result<void> create() = 0;
    // Moves a process into the cgroup in every hierarchy.
    virtual Result<void> add_process(pid_t pid) = 0;
    // What a new process needs to join by itself (SelfJoin), opened now (after create()).
    virtual Result<SelfJoin> open_self_join() const = 0;
    // Moves a process into the cgroup2 part only (Unified: the cgroup itself); nothing on
    // Legacy. For a child that joined the v1 hierarchies by itself but could not be cloned
    // into the cgroup2 directory.
    virtual Result<void> add_process_unified(pid_t pid) = 0;
    // Writes the limits. Fields the host cannot honour are an error naming the field.
    virtual Result<void> apply(const oci::Resources& r) = 0;
    virtual Result<void> freeze() = 0;
    virtual Result<void> thaw() = 0;
    virtual Result<bool> frozen() = 0;
    // Every process in the cgroup (and below it).
    virtual Result<std::vector<pid_t>> pids() = 0;
    virtual Result<Stats> stats() = 0;
    // SIGKILLs what is left, waits for the cgroup to empty and removes the directories.
    // A cgroup that is already gone is success.
    virtual Result<void> destroy() = 0;
    // The directories this manager owns, one per hierarchy (for state and diagnostics).
    virtual std::vector<std::string> paths() const = 0;
    // True when the cgroup has a cgroup2 part in which the container's `cgroup` mount and
    // cgroup namespace should be rooted.
    virtual Layout layout() const = 0;
    // The cgroup2 directory (Unified: the cgroup itself; Hybrid: its part in the `unified`
    // mount); empty on Legacy.
    virtual std::string unified_path() const { return {}; }
    // Whether a controller (v1 name: "memory", "cpu", "cpuset", "pids", "blkio", "hugetlb",
    // "net_cls", "net_prio", "rdma") has a directory of this cgroup to take its limits.
    // A rootless manager lacks those it could not create; see Options::rootless.
    virtual bool has_controller(std::string_view controller) const = 0;
};

// Sees every control-file write before it is made: the full path and the value. A non-zero
// return is taken as the write's errno and nothing is written (tests record the order of
// writes and play the kernel refusing a value with it).
using WriteHook = std::function<int(const std::string& path, std::string_view value)>;

// True for an unprivileged caller: euid not 0, or root of a user namespace other than the
// initial one (where cgroupfs still checks host credentials).
bool running_rootless();

struct Options {
    std::string cgroups_path;  // linux.cgroupsPath; empty: "/berth/<id>"
    std::string id;
    bool systemd = false;  // refused with a clear error where systemd is not running
    std::string mount_root = "/sys/fs/cgroup";  // tests point this at a fake tree
    std::string proc_self_cgroup = "/proc/self/cgroup";
    std::string proc_self_mountinfo = "/proc/self/mountinfo";  // where hierarchies are mounted
    std::string mountinfo_text;  // its text when the caller has read it already; empty: read it
    std::string systemd_run_dir = "/run/systemd/system";  // exists when systemd is PID 1
    WriteHook write_hook;                                 // unset: writes go straight through
    // Rootless: a hierarchy whose container directory neither exists writable nor can be
    // made (its nearest existing ancestor is not ours) is left out instead of failing;
    // with none left the manager has no cgroup at all. Delegated directories still work.
    bool rootless = running_rootless();
};

// Detects the layout under mount_root (from the mounts in proc_self_mountinfo) and returns the
// matching manager. Nothing is created on disk until create().
Result<std::unique_ptr<Manager>> open(const Options& o);
// From the filesystem types alone: cgroup2 at mount_root is Unified, cgroup2 at
// mount_root/unified is Hybrid, anything else Legacy.
Layout detect_layout(const std::string& mount_root);
const char* layout_name(Layout l);

}  // namespace berth::cgroup
