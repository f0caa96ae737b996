// A container's record under the state root: <root>/<id>/state.json (written atomically),
// the config it was created from, and the exec fifo that gates `start`. The record says what
// was made; liveness and pause state are read from the kernel each time (status()).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/spec.h"

namespace berth::runtime {

struct Record {
    std::string id;
    std::string bundle;
    std::string rootfs;
    pid_t pid = 0;
    uint64_t pid_start = 0;  // /proc/PID/stat starttime: a reused pid is not our init
    std::string created;
    uint32_t owner_uid = 0;
    std::map<std::string, std::string> annotations;
    std::string cgroups_path;  // resolved, as given to cgroup::Options
    bool systemd_cgroup = false;
    std::string oci_version;
};

class StateDir {
  public:
    // Validates the id (runc's rule: [A-Za-z0-9_+.-]+, not "." or "..").
    static Result<void> check_id(const std::string& id);
    // Makes <root>/<id>; EEXIST becomes "container with id X already exists".
    static Result<StateDir> create(const std::string& root, const std::string& id);
    // Opens an existing one and takes its lock; "container X does not exist" otherwise.
    static Result<StateDir> open(const std::string& root, const std::string& id);
    static Result<std::vector<std::string>> list_ids(const std::string& root);

    const std::string& path() const { return path_; }
    // Children must close it: a flock lives as long as any copy of its descriptor.
    int lock_fd() const { return lock_.get(); }
    std::string file(const char* name) const;
    std::string fifo_path() const { return file("exec.fifo"); }
    std::string result_fifo_path() const { return file("start.fifo"); }

    Result<void> save(const Record& r) const;
    Result<Record> load() const;
    Result<void> save_config(std::string_view config_json) const;
    Result<oci::Spec> load_config() const;
    bool exists() const;
    Result<void> remove() const;

  private:
    std::string path_;
    UniqueFd lock_;
};

// Liveness of a recorded init: alive, the same process (start time), and not a zombie.
bool init_alive(pid_t pid, uint64_t start_time);
Result<uint64_t> process_start_time(pid_t pid);

}  // namespace berth::runtime
