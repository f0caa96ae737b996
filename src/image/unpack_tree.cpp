#include "image/unpack_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/log.h"
#include "image/unpack_path.h"

namespace berth::image {
namespace {

std::string entry_ctx(const std::string& entry) {
    return "layer entry `" + entry + "`";
}

// "/proc/self/fd/P/base": the path syscalls without an *at() form (lsetxattr) take. `base` is
// one component, the parent a directory we opened without following symlinks.
std::string proc_path(int parent, const std::string& base) {
    return "/proc/self/fd/" + std::to_string(parent) + "/" + base;
}

Result<void> remove_tree_at(int parent, const char* name, dev_t dev) {
    struct stat st;
    if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return {};
        return ErrnoError() << "stat `" << name << "`";
    }
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev) return Error(EBUSY) << "`" << name << "` is a mount point";
        int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return ErrnoError() << "open `" << name << "`";
        UniqueFd dir(fd);
        ::fchmod(dir.get(), 0700);  // a read-only directory of the image (rootless removal)
        BERTH_TRY(remove_children_at(dir.get()));
        if (::unlinkat(parent, name, AT_REMOVEDIR) < 0)
            return ErrnoError() << "remove `" << name << "`";
        return {};
    }
    if (::unlinkat(parent, name, 0) < 0 && errno != ENOENT)
        return ErrnoError() << "remove `" << name << "`";
    return {};
}

}  // namespace

Result<void> remove_children_at(int dir) {
    struct stat st;
    if (::fstat(dir, &st) < 0) return ErrnoError() << "stat directory";
    int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError() << "open directory";
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return ErrnoError() << "fdopendir";
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* ent = ::readdir(d)) {
        std::string_view n = ent->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    int read_errno = errno;
    ::closedir(d);
    if (read_errno) return Error::from_errno(read_errno) << "read directory";
    for (const auto& n : names) BERTH_TRY(remove_tree_at(dir, n.c_str(), st.st_dev));
    return {};
}

Result<int> LayerTree::open_dir(const std::vector<std::string>& parts, size_t count, bool create,
                                const std::string& entry) {
    std::string key = join_components(parts, count);
    if (cached_fd_ && key == cached_path_) return cached_fd_.get();
    UniqueFd cur;
    for (size_t i = 0; i < count; ++i) {
        int at = cur ? cur.get() : root_.get();
        const char* name = parts[i].c_str();
        int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
            // A parent the tar never listed: 0755 root, as tar and umoci make it, whatever
            // the umask.
            if (::mkdirat(at, name, 0700) < 0)
                return ErrnoError()
                       << entry_ctx(entry) << ": create `" << join_components(parts, i + 1) << "`";
            fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0 && ::fchmod(fd, 0755) < 0) {
                ::close(fd);
                return ErrnoError()
                       << entry_ctx(entry) << ": chmod `" << join_components(parts, i + 1) << "`";
            }
        }
        if (fd < 0) {
            int err = errno;
            std::string where = join_components(parts, i + 1);
            struct stat st;
            if ((err == ELOOP || err == ENOTDIR) &&
                ::fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                return Error(EPERM) << entry_ctx(entry) << ": `" << where
                                    << "` is a symlink; refusing to write through it";
            if (err == ENOTDIR)
                return Error(ENOTDIR)
                       << entry_ctx(entry) << ": `" << where << "` is not a directory";
            return Error::from_errno(err) << entry_ctx(entry) << ": open `" << where << "`";
        }
        cur.reset(fd);
    }
    if (!cur) {
        int fd = ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return ErrnoError() << "dup the layer directory";
        cur.reset(fd);
    }
    cached_path_ = std::move(key);
    cached_fd_ = std::move(cur);
    return cached_fd_.get();
}

// Clears the way for an entry: tar semantics, the later entry wins. A directory over a
// directory keeps it (and its children) and only takes the new metadata.
Result<void> LayerTree::make_room(int parent, const std::string& base, bool keep_dir,
                                  const std::string& entry) {
    struct stat st;
    if (::fstatat(parent, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return {};
        return ErrnoError() << entry_ctx(entry) << ": stat";
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir) return {};
        struct stat parent_st;
        if (::fstat(parent, &parent_st) < 0) return ErrnoError() << entry_ctx(entry) << ": stat";
        auto r = remove_tree_at(parent, base.c_str(), parent_st.st_dev);
        // `parent` may be the cached directory: forget it only now, and the caller reopens.
        cached_fd_.reset();
        cached_path_.clear();
        if (!r) return std::move(r).error().wrap(entry_ctx(entry) + ": replace directory");
        return {};
    }
    if (::unlinkat(parent, base.c_str(), 0) < 0)
        return ErrnoError() << entry_ctx(entry) << ": replace";
    return {};
}

// Owner first (chown clears setuid bits and file capabilities), then mode, xattrs, times.
// `fd` is the entry opened for regular files and directories, -1 for the rest.
Result<void> LayerTree::set_metadata(int parent, const std::string& base, int fd,
                                     const LayerEntry& e) {
    const char* b = base.c_str();
    if (same_owner_) {
        int r = fd >= 0 ? ::fchown(fd, static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid))
                        : ::fchownat(parent, b, static_cast<uid_t>(e.uid),
                                     static_cast<gid_t>(e.gid), AT_SYMLINK_NOFOLLOW);
        if (r < 0) return ErrnoError() << entry_ctx(e.name) << ": chown " << e.uid << ":" << e.gid;
    }
    if (e.type != S_IFLNK) {
        // The entry was made by us a moment ago and is no symlink, so fchmodat's following of
        // a final symlink cannot apply.
        int r = fd >= 0 ? ::fchmod(fd, e.perm) : ::fchmodat(parent, b, e.perm, 0);
        if (r < 0) return ErrnoError() << entry_ctx(e.name) << ": chmod";
    }
    for (const auto& [name, value] : e.xattrs) {
        if (!xattr_allowed(name)) continue;
        int r = fd >= 0 ? ::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0)
                        : ::lsetxattr(proc_path(parent, base).c_str(), name.c_str(), value.data(),
                                      value.size(), 0);
        if (r < 0) {
            // Rootless: trusted.* and security.* need privilege the caller does not have.
            if (!same_owner_ && (errno == EPERM || errno == ENOTSUP) &&
                name.compare(0, 5, "user.") != 0) {
                log::debug(entry_ctx(e.name) + ": xattr " + name + " skipped");
                continue;
            }
            return ErrnoError() << entry_ctx(e.name) << ": set xattr " << name;
        }
    }
    if (e.type == S_IFDIR) return {};  // times in finish()
    struct timespec ts[2] = {e.atime, e.mtime};
    int r = fd >= 0 ? ::futimens(fd, ts) : ::utimensat(parent, b, ts, AT_SYMLINK_NOFOLLOW);
    if (r < 0) return ErrnoError() << entry_ctx(e.name) << ": set times";
    return {};
}

Result<void> LayerTree::write_data(int fd, const LayerEntry& e, DataReader read_data, void* ctx) {
    for (;;) {
        DataBlock block = BERTH_TRY(read_data(ctx));
        if (block.data.empty()) break;
        size_t done = 0;
        while (done < block.data.size()) {
            ssize_t n = ::pwrite(fd, block.data.data() + done, block.data.size() - done,
                                 block.offset + static_cast<off_t>(done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return ErrnoError() << entry_ctx(e.name) << ": write";
            done += static_cast<size_t>(n);
        }
    }
    // A sparse file's trailing hole.
    if (e.size >= 0 && ::ftruncate(fd, e.size) < 0)
        return ErrnoError() << entry_ctx(e.name) << ": truncate to " << e.size;
    return {};
}

Result<void> LayerTree::apply(const LayerEntry& e, DataReader read_data, void* ctx) {
    auto parts = BERTH_TRY(clean_entry_path(e.name));
    if (parts.empty()) {
        // "./": the layer directory's own metadata.
        if (e.type != S_IFDIR || !e.hardlink.empty())
            return Error(EPERM) << entry_ctx(e.name) << ": replaces the layer directory";
        if (same_owner_ &&
            ::fchown(root_.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) < 0)
            return ErrnoError() << entry_ctx(e.name) << ": chown";
        if (::fchmod(root_.get(), e.perm) < 0)
            return ErrnoError() << entry_ctx(e.name) << ": chmod";
        dir_times_.push_back({{}, {e.atime, e.mtime}});
        return {};
    }
    std::string base = parts.back();
    Whiteout wh = BERTH_TRY_CTX(classify_whiteout(base), entry_ctx(e.name));
    if (wh.kind == WhiteoutKind::Ignored) return {};
    int parent = BERTH_TRY(open_dir(parts, parts.size() - 1, true, e.name));

    if (wh.kind == WhiteoutKind::Opaque) {
        if (::fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) == 0) return {};
        // Rootless overlayfs ("userxattr") reads the user.* twin.
        if (!same_owner_ && errno == EPERM &&
            ::fsetxattr(parent, "user.overlay.opaque", "y", 1, 0) == 0)
            return {};
        return ErrnoError() << entry_ctx(e.name) << ": mark the directory opaque";
    }
    if (wh.kind == WhiteoutKind::Remove) {
        // A whiteout hides only the lower layers' entries (image-spec): one this layer made
        // itself stays.
        struct stat st;
        if (::fstatat(parent, wh.target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return {};
        if (::mknodat(parent, wh.target.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
            return ErrnoError() << entry_ctx(e.name) << ": create the overlay whiteout";
        return {};
    }

    const char* b = base.c_str();
    if (!e.hardlink.empty()) {
        auto target =
            BERTH_TRY_CTX(clean_entry_path(e.hardlink), entry_ctx(e.name) + ": hard link");
        if (target.empty())
            return Error(EPERM) << entry_ctx(e.name) << ": hard link to the layer directory";
        // The target's directory is walked like any entry's (no symlinks), and linkat without
        // AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
        int tparent_raw = BERTH_TRY(open_dir(target, target.size() - 1, false, e.name));
        UniqueFd tparent(::fcntl(tparent_raw, F_DUPFD_CLOEXEC, 0));
        if (!tparent) return ErrnoError() << "dup";
        parent = BERTH_TRY(open_dir(parts, parts.size() - 1, true, e.name));
        if (target == parts) return {};  // a link to itself: tar writes these for "a" then "a"
        BERTH_TRY(make_room(parent, base, false, e.name));
        parent = BERTH_TRY(open_dir(parts, parts.size() - 1, true, e.name));
        if (::linkat(tparent.get(), target.back().c_str(), parent, b, 0) < 0)
            return ErrnoError() << entry_ctx(e.name) << ": hard link to `" << e.hardlink << "`";
        return {};
    }

    BERTH_TRY(make_room(parent, base, e.type == S_IFDIR, e.name));
    parent = BERTH_TRY(open_dir(parts, parts.size() - 1, true, e.name));
    switch (e.type) {
        case S_IFREG: {
            int fd =
                ::openat(parent, b, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd < 0) return ErrnoError() << entry_ctx(e.name) << ": create";
            UniqueFd file(fd);
            BERTH_TRY(write_data(file.get(), e, read_data, ctx));
            return set_metadata(parent, base, file.get(), e);
        }
        case S_IFDIR: {
            if (::mkdirat(parent, b, 0700) < 0 && errno != EEXIST)
                return ErrnoError() << entry_ctx(e.name) << ": mkdir";
            int fd = ::openat(parent, b, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) return ErrnoError() << entry_ctx(e.name) << ": open directory";
            UniqueFd dir(fd);
            BERTH_TRY(set_metadata(parent, base, dir.get(), e));
            dir_times_.push_back({parts, {e.atime, e.mtime}});
            return {};
        }
        case S_IFLNK:
            if (::symlinkat(e.link_target.c_str(), parent, b) < 0)
                return ErrnoError()
                       << entry_ctx(e.name) << ": symlink to `" << e.link_target << "`";
            return set_metadata(parent, base, -1, e);
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
            if (::mknodat(parent, b, e.type | e.perm, e.type == S_IFIFO ? 0 : e.rdev) < 0) {
                // Rootless: device nodes cannot be made, and the runtime's /dev replaces them.
                if (!same_owner_ && errno == EPERM && e.type != S_IFIFO) {
                    log::debug(entry_ctx(e.name) + ": device node skipped (no privilege)");
                    return {};
                }
                return ErrnoError() << entry_ctx(e.name) << ": mknod";
            }
            return set_metadata(parent, base, -1, e);
        default:
            log::debug(entry_ctx(e.name) + ": skipped (sockets and unknown types)");
            return {};
    }
}

Result<void> LayerTree::finish() {
    // In tar order, so a directory listed twice gets its later times. Setting a child's times
    // leaves its parent's mtime alone.
    for (auto it = dir_times_.begin(); it != dir_times_.end(); ++it) {
        if (it->parts.empty()) {
            if (::futimens(root_.get(), it->times) < 0) return ErrnoError() << "set times of `.`";
            continue;
        }
        auto parent = open_dir(it->parts, it->parts.size() - 1, false,
                               join_components(it->parts, it->parts.size()));
        if (!parent) continue;  // replaced by a later entry
        if (::utimensat(*parent, it->parts.back().c_str(), it->times, AT_SYMLINK_NOFOLLOW) < 0 &&
            errno != ENOENT)
            return ErrnoError() << "set times of `" << join_components(it->parts, it->parts.size())
                                << "`";
    }
    return {};
}

}  // namespace berth::image
