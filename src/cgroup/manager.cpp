#include "cgroup/manager.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/file.h"
#include "cgroup/internal.h"

namespace berth::cgroup {
namespace {

bool is_cgroup2(const std::string& path) {
    struct statfs st;
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

Result<std::vector<ProcCgroupEntry>> read_self(const Options& o) {
    auto text = read_file(o.proc_self_cgroup);
    if (!text) return std::move(text).error().wrap("find the caller's cgroup");
    return parse_proc_cgroup(*text);
}

}  // namespace

const char* layout_name(Layout l) {
    switch (l) {
        case Layout::Legacy:
            return "legacy";
        case Layout::Hybrid:
            return "hybrid";
        case Layout::Unified:
            return "unified";
    }
    return "unknown";
}

Layout detect_layout(const std::string& mount_root) {
    if (is_cgroup2(mount_root)) return Layout::Unified;
    if (is_cgroup2(path_join(mount_root, "unified"))) return Layout::Hybrid;
    return Layout::Legacy;
}

Result<std::unique_ptr<Manager>> open(const Options& o) {
    if (o.systemd) {
        if (!is_directory(o.systemd_run_dir))
            return Error(ENOTSUP, "--systemd-cgroup: systemd is not running on this host");
        return Error(ENOTSUP, "--systemd-cgroup: the systemd cgroup driver is not implemented yet");
    }
    ManagerSetup setup;
    setup.path = BERTH_TRY(normalize_cgroups_path(o.cgroups_path, o.id));
    setup.writer = Writer(o.write_hook);

    Result<std::string> mountinfo = o.mountinfo_text;
    if (o.mountinfo_text.empty()) mountinfo = read_file(o.proc_self_mountinfo);
    if (!mountinfo) return std::move(mountinfo).error().wrap("find cgroup mounts");
    const std::string root = path_clean(o.mount_root);
    std::vector<Hierarchy> hierarchies = parse_mountinfo(*mountinfo, root);

    std::vector<ProcCgroupEntry> self;
    if (!setup.path.absolute) self = BERTH_TRY(read_self(o));

    const std::string unified_mount = path_join(root, "unified");
    const Hierarchy* v2_root = nullptr;
    const Hierarchy* v2_hybrid = nullptr;
    for (const auto& h : hierarchies) {
        if (!h.cgroup2) {
            setup.v1.push_back({h, resolve_dir(h, setup.path, self)});
        } else if (h.mountpoint == root) {
            v2_root = &h;
        } else if (h.mountpoint == unified_mount) {
            v2_hybrid = &h;
        }
    }
    auto usable = [&](const HierarchyDir& hd) {
        return !o.rootless || rootless_usable(hd.dir, hd.hierarchy.mountpoint);
    };
    if (v2_root) {
        setup.layout = Layout::Unified;
        setup.v1.clear();
        setup.unified = HierarchyDir{*v2_root, resolve_dir(*v2_root, setup.path, self)};
        if (!usable(*setup.unified)) return make_null_manager(setup.layout);
        return make_v2_manager(std::move(setup));
    }
    if (setup.v1.empty())
        return Error(ENOENT) << "no cgroup hierarchy is mounted under `" << root << "`";
    setup.layout = Layout::Legacy;
    if (v2_hybrid) {
        setup.layout = Layout::Hybrid;
        setup.unified = HierarchyDir{*v2_hybrid, resolve_dir(*v2_hybrid, setup.path, self)};
        if (!usable(*setup.unified)) setup.unified.reset();
    }
    std::erase_if(setup.v1, [&](const HierarchyDir& hd) { return !usable(hd); });
    if (setup.v1.empty() && !setup.unified) return make_null_manager(setup.layout);
    return make_v1_manager(std::move(setup));
}

Result<void> join_self(SelfJoin& join) {
    for (size_t i = 0; i < join.tasks.size(); ++i) {
        ssize_t n;
        do {
            n = ::write(join.tasks[i].get(), "0", 1);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return ErrnoError() << "join cgroup `" << path_dirname(join.task_paths[i]) << "`";
    }
    join.tasks.clear();
    return {};
}

Result<SelfJoin> open_self_join_files(const std::vector<std::string>& v1_dirs,
                                      const std::string& unified_dir) {
    SelfJoin j;
    for (const auto& d : v1_dirs) {
        j.task_paths.push_back(path_join(d, "tasks"));
        auto fd = open_fd(j.task_paths.back(), O_WRONLY);
        if (!fd) return std::move(fd).error().wrap("join cgroup");
        j.tasks.push_back(std::move(*fd));
    }
    if (!unified_dir.empty()) {
        auto fd = open_fd(unified_dir, O_RDONLY | O_DIRECTORY);
        if (!fd) return std::move(fd).error().wrap("join cgroup");
        j.clone_into = std::move(*fd);
    }
    return j;
}

void remove_default_parent(const std::string& leaf_dir) {
    // Other containers may still be below it: EBUSY and ENOTEMPTY are expected and fine.
    (void)::rmdir(path_dirname(leaf_dir).c_str());
}

}  // namespace berth::cgroup
