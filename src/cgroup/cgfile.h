// Control-file I/O shared by the v1 and v2 managers. Writes name the spec field they serve, so
// a refusal reads "linux.resources.memory.limit: write memory.limit_in_bytes: Device or
// resource busy", with the kernel's errno kept.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cgroup/manager.h"

namespace berth::cgroup {

class Writer {
  public:
    explicit Writer(WriteHook hook = {}) : hook_(std::move(hook)) {}
    // One write(2) of value to dir/file.
    Result<void> write(const std::string& dir, std::string_view file, std::string_view value,
                       std::string_view field) const;

  private:
    WriteHook hook_;
};

bool cg_exists(const std::string& dir, std::string_view file);
Result<std::string> cg_read(const std::string& dir, std::string_view file);
// The file's content, trimmed; nullopt when it cannot be read.
std::optional<std::string> cg_read_opt(const std::string& dir, std::string_view file);
// A number; "max" reads as max_value.
std::optional<uint64_t> cg_read_u64(const std::string& dir, std::string_view file,
                                    uint64_t max_value = UINT64_MAX);

// Every pid in cgroup.procs of dir and of all cgroups below it, sorted, without duplicates.
Result<std::vector<pid_t>> read_pids_recursive(const std::string& dir);

// SIGKILLs what list() returns until it returns nothing or timeout passes (then EBUSY).
Result<void> kill_until_empty(const std::function<Result<std::vector<pid_t>>()>& list,
                              std::chrono::milliseconds timeout);

// Removes dir and every cgroup below it, deepest first. A missing dir is success; EBUSY (the
// kernel still tearing down exited tasks) is retried for a while.
Result<void> remove_cgroup_tree(const std::string& dir);
// rmdir of each directory, gone ones included; true when every one is gone now. On cgroupfs
// rmdir fails (EBUSY, ENOTEMPTY) while a task or a child cgroup is left, so true also means
// nothing was left to kill.
bool remove_empty_leaves(const std::vector<std::string>& dirs);

// Polls pred every few milliseconds until it is true or timeout passes.
bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

}  // namespace berth::cgroup
