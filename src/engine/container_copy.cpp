#include "engine/container_copy.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "engine/copy_tree.h"

namespace berth::engine {
namespace {

// One end of a copy: the host (paths as the user wrote them) or a container (paths inside
// its root, never leaving it).
struct Side {
    int root = AT_FDCWD;
    bool container = false;
    std::string name;  // the container's

    std::string show(const std::string& path) const {
        return container ? "`" + name + ":" + path + "`" : "`" + path + "`";
    }
};

// The path as it is resolved: a container's paths are absolute inside it ("etc" = "/etc").
std::string clean_for(const Side& side, const std::string& path) {
    return path_clean(side.container && !path.starts_with("/") ? "/" + path : path);
}

Result<UniqueFd> open_on(const Side& side, const std::string& path, bool follow, int flags) {
    if (side.container) {
        auto fd = open_in_root(side.root, path, follow, flags);
        if (!fd.ok()) return Error::from_errno(fd.error().errno_value()) << side.show(path);
        return fd;
    }
    int fd = ::open(path.c_str(), flags | (follow ? 0 : O_NOFOLLOW) | O_CLOEXEC);
    if (fd < 0) return ErrnoError() << side.show(path);
    return UniqueFd(fd);
}

std::string base_name(const std::string& clean) {
    size_t slash = clean.rfind('/');
    return slash == std::string::npos ? clean : clean.substr(slash + 1);
}

bool ends_with_dot(const std::string& p) {
    return p == "." || p.ends_with("/.");
}

// Where the source lands: into `dir` under `name` ("" = into dir itself, SRC/. into an
// existing directory).
struct Target {
    std::string dir;
    std::string name;
};

// docker's rules (pkg/archive PrepareArchiveCopy), from what SRC is and what DEST is.
Result<Target> target_for(const Side& to, const std::string& dest, bool src_is_dir, bool contents,
                          const std::string& src_base) {
    std::string clean = clean_for(to, dest);
    auto existing = open_on(to, clean, true, O_PATH);
    if (existing.ok()) {
        struct stat st;
        if (::fstat(existing->get(), &st) != 0) return ErrnoError() << "stat " << to.show(dest);
        if (S_ISDIR(st.st_mode)) return Target{clean, contents ? "" : src_base};
        if (src_is_dir) {
            return Error(ENOTDIR) << "cannot copy a directory onto the file " << to.show(dest);
        }
        if (dest.ends_with("/")) return Error(ENOTDIR) << to.show(dest) << " is not a directory";
        return Target{path_dirname(clean), base_name(clean)};
    }
    if (existing.error().errno_value() != ENOENT) return std::move(existing).error();
    if (!src_is_dir && (dest.ends_with("/") || ends_with_dot(dest))) {
        return Error(ENOENT) << "destination directory " << to.show(dest) << " does not exist";
    }
    if (clean == "/" || base_name(clean).empty()) {
        return Error(EINVAL) << "invalid destination " << to.show(dest);
    }
    return Target{path_dirname(clean), base_name(clean)};
}

Result<void> copy_between(const Side& from, const std::string& src, const Side& to,
                          const std::string& dest, const CopyOptions& o, FsSinkOptions sink_opts) {
    std::string clean_src = clean_for(from, src);
    // A trailing "/" or "/." names the directory a symlink points to, as it does for cp.
    bool contents = ends_with_dot(src) || clean_src == "/";
    bool follow = o.follow_link || src.ends_with("/") || ends_with_dot(src);
    UniqueFd src_fd = BERTH_TRY(open_on(from, clean_src, follow, O_PATH));
    struct stat st;
    if (::fstat(src_fd.get(), &st) != 0) return ErrnoError() << "stat " << from.show(src);
    bool src_is_dir = S_ISDIR(st.st_mode);
    if (!src_is_dir && (src.ends_with("/") || ends_with_dot(src))) {
        return Error(ENOTDIR) << from.show(src) << " is not a directory";
    }
    Target t =
        BERTH_TRY(target_for(to, dest, src_is_dir, contents && src_is_dir, base_name(clean_src)));
    auto dir = open_on(to, t.dir, true, O_PATH | O_DIRECTORY);
    if (!dir.ok()) {
        int err = dir.error().errno_value();
        if (err == ENOENT) {
            return Error(ENOENT) << "destination directory " << to.show(t.dir) << " does not exist";
        }
        return std::move(dir).error();
    }
    if (to.container) {
        sink_opts.root_fd = to.root;
        sink_opts.dest_in_root = t.dir;
    }
    std::string shown = to.container ? to.name + ":" + t.dir : t.dir;
    FsSink sink(std::move(*dir), shown, sink_opts);
    BERTH_TRY(walk_tree(src_fd, t.name, sink));
    return sink.finish();
}

bool spec_read_only(const std::string& spec) {
    auto j = nlohmann::json::parse(spec, nullptr, false);
    if (!j.is_object()) return false;
    auto root = j.find("root");
    if (root == j.end() || !root->is_object()) return false;
    auto ro = root->find("readonly");
    return ro != root->end() && ro->is_boolean() && ro->get<bool>();
}

Side container_side(const ContainerFs& fs) {
    return Side{fs.root.get(), true, fs.name};
}

}  // namespace

Result<ContainerFs> open_container_fs(Engine& engine, const ContainerView& c) {
    ContainerFs fs;
    fs.name = c.record.name;
    fs.read_only = spec_read_only(c.record.spec);
    if (c.running() && c.task && c.task->pid > 0) {
        std::string proc_root = "/proc/" + std::to_string(c.task->pid) + "/root";
        UniqueFd root(::open(proc_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        // Checked after the open: the fd is the container's only if the pid still was.
        if (root && process_alive(c.task->pid, c.task->pid_start_time)) {
            fs.root = std::move(root);
            fs.running = true;
            return fs;
        }
    }
    std::string rootfs = BERTH_TRY(engine.mount(c.record));
    fs.root = BERTH_TRY(open_fd(rootfs, O_PATH | O_DIRECTORY));
    return fs;
}

Result<void> copy_from_container(const ContainerFs& fs, const std::string& src,
                                 const std::string& dest, const CopyOptions& o, BorrowedFd out) {
    Side from = container_side(fs);
    if (dest == "-") {
        std::string clean_src = clean_for(from, src);
        bool contents = ends_with_dot(src) || clean_src == "/";
        bool follow = o.follow_link || src.ends_with("/") || contents;
        UniqueFd src_fd = BERTH_TRY(open_on(from, clean_src, follow, O_PATH));
        struct stat st;
        if (::fstat(src_fd.get(), &st) != 0) return ErrnoError() << "stat " << from.show(src);
        if (!S_ISDIR(st.st_mode) && (src.ends_with("/") || ends_with_dot(src))) {
            return Error(ENOTDIR) << from.show(src) << " is not a directory";
        }
        auto sink = BERTH_TRY(TarSink::open(out));
        BERTH_TRY(
            walk_tree(src_fd, contents && S_ISDIR(st.st_mode) ? "" : base_name(clean_src), *sink));
        return sink->finish();
    }
    FsSinkOptions sink;
    if (!o.archive) {
        sink.uid = ::geteuid();
        sink.gid = ::getegid();
    }
    return copy_between(from, src, Side{}, dest, o, sink);
}

Result<void> copy_to_container(const ContainerFs& fs, const std::string& src,
                               const std::string& dest, const CopyOptions& o, BorrowedFd in) {
    if (fs.read_only && !fs.running) {
        return Error(EROFS) << "container " << fs.name << "'s root file system is read-only";
    }
    FsSinkOptions sink_opts;
    if (!o.archive) {
        sink_opts.uid = 0;
        sink_opts.gid = 0;
    }
    Side to = container_side(fs);
    if (src == "-") {
        std::string clean = clean_for(to, dest);
        auto dir = open_on(to, clean, true, O_PATH | O_DIRECTORY);
        if (!dir.ok()) {
            int err = dir.error().errno_value();
            if (err == ENOTDIR) {
                return Error(ENOTDIR) << "destination " << to.show(dest) << " must be a directory";
            }
            if (err == ENOENT) {
                return Error(ENOENT)
                       << "destination directory " << to.show(dest) << " does not exist";
            }
            return std::move(dir).error();
        }
        sink_opts.root_fd = to.root;
        sink_opts.dest_in_root = clean;
        FsSink sink(std::move(*dir), fs.name + ":" + clean, sink_opts);
        BERTH_TRY(read_tar(in, sink));
        return sink.finish();
    }
    return copy_between(Side{}, src, to, dest, o, sink_opts);
}

}  // namespace berth::engine
