// One container's cgroup across whatever layout the host has: v1 (a directory per controller
// hierarchy), unified v2, or the hybrid (v1 controllers plus a cgroup2 mount at
// /sys/fs/cgroup/unified). Implementations hide the differences; callers see one interface.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cgroup/stats.h"
#include "oci/spec.h"

namespace berth::cgroup {

enum class Layout { Legacy, Hybrid, Unified };

class Manager {
public:
    virtual ~Manager() = default;

    // Creates the cgroup directories (idempotent). Nothing is written yet.
    virtual Result<void> create() = 0;
    // Moves a process into the cgroup in every hierarchy.
    virtual Result<void> add_process(pid_t pid) = 0;
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
};

struct Options {
    std::string cgroups_path;  // linux.cgroupsPath; empty: "/berth/<id>"
    std::string id;
    bool systemd = false;      // refused with a clear error where systemd is not running
    std::string mount_root = "/sys/fs/cgroup";  // tests point this at a fake tree
    std::string proc_self_cgroup = "/proc/self/cgroup";
};

// Detects the layout under mount_root and returns the matching manager.
Result<std::unique_ptr<Manager>> open(const Options& o);
Layout detect_layout(const std::string& mount_root);

}  // namespace berth::cgroup
