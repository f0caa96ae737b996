// Cgroups for an unprivileged caller: only the hierarchies where the container's directory is
// (or can be made) ours, and a manager with no cgroup at all when there is none.
#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "cgroup/internal.h"

namespace berth::cgroup {
namespace {

bool may(const std::string& path, int mode) {
    return ::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0;
}

// Root of the initial user namespace maps all 2^32 ids: "0 0 4294967295".
bool in_initial_user_namespace() {
    auto map = read_file("/proc/self/uid_map");
    if (!map) return true;
    auto fields = split(trim(*map), ' ');
    std::erase(fields, "");
    return fields.size() == 3 && fields[0] == "0" && fields[1] == "0" && fields[2] == "4294967295";
}

class NullManager final : public Manager {
  public:
    explicit NullManager(Layout layout) : layout_(layout) {}

    Result<void> create() override { return {}; }
    Result<void> add_process(pid_t) override { return {}; }
    Result<SelfJoin> open_self_join() const override { return SelfJoin{}; }
    Result<void> add_process_unified(pid_t) override { return {}; }
    Result<void> apply(const oci::Resources& r) override {
        if (r.memory || r.cpu || r.pids_limit || r.block_io || !r.hugepage_limits.empty() ||
            r.network || !r.rdma.empty() || !r.unified.empty())
            return none("linux.resources");
        return {};  // device rules: an unprivileged caller cannot set them anywhere
    }
    Result<void> freeze() override { return none("freeze"); }
    Result<void> thaw() override { return none("thaw"); }
    Result<bool> frozen() override { return false; }
    Result<std::vector<pid_t>> pids() override { return none("list the container's processes"); }
    Result<Stats> stats() override { return none("stats"); }
    Result<void> destroy() override { return {}; }
    std::vector<std::string> paths() const override { return {}; }
    Layout layout() const override { return layout_; }
    bool has_controller(std::string_view) const override { return false; }

  private:
    static Error none(std::string_view what) {
        return Error(ENOTSUP) << what
                              << ": this rootless container has no cgroup (no cgroup is delegated "
                                 "to the user at its cgroupsPath)";
    }
    Layout layout_;
};

}  // namespace

bool running_rootless() {
    static const bool rootless = ::geteuid() != 0 || !in_initial_user_namespace();
    return rootless;
}

std::unique_ptr<Manager> make_null_manager(Layout layout) {
    return std::make_unique<NullManager>(layout);
}

bool rootless_usable(const std::string& dir, const std::string& mountpoint) {
    if (is_directory(dir)) {
        // Joining writes the v1 `tasks` (or cgroup.procs) file; both are checked where present.
        for (const char* f : {"cgroup.procs", "tasks"}) {
            std::string file = path_join(dir, f);
            if (path_exists(file) && !may(file, W_OK)) return false;
        }
        return may(dir, W_OK | X_OK);
    }
    std::string p = path_dirname(dir);
    while (p.size() > mountpoint.size() && !path_exists(p)) p = path_dirname(p);
    return is_directory(p) && may(p, W_OK | X_OK);
}

}  // namespace berth::cgroup
