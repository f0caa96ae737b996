#include "engine/copy_tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

constexpr size_t kBuffer = 128 * 1024;

Result<UniqueFd> dup_fd(BorrowedFd fd) {
    int d = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);
    if (d < 0) return ErrnoError() << "dup";
    return UniqueFd(d);
}

// Contents of these are the kernel's view of itself, not files: copying /proc would never end.
bool is_kernel_fs(int fd) {
    struct statfs s;
    if (::fstatfs(fd, &s) != 0) return false;
    switch (static_cast<unsigned long>(s.f_type)) {
        case PROC_SUPER_MAGIC:
        case SYSFS_MAGIC:
        case CGROUP_SUPER_MAGIC:
        case CGROUP2_SUPER_MAGIC:
        case DEBUGFS_MAGIC:
        case SECURITYFS_MAGIC:
        case TRACEFS_MAGIC:
        case BPF_FS_MAGIC:
        case PSTOREFS_MAGIC:
            return true;
        default:
            return false;
    }
}

CopyEntry entry_of(const struct stat& st, const std::string& path) {
    CopyEntry e;
    e.path = path;
    e.mode = st.st_mode;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = st.st_mtim;
    e.size = S_ISREG(st.st_mode) ? st.st_size : 0;
    e.rdev = st.st_rdev;
    return e;
}

ContentReader fd_reader(int fd) {
    return [fd](char* buf, size_t len) -> Result<size_t> {
        for (;;) {
            ssize_t n = ::read(fd, buf, len);
            if (n >= 0) return size_t(n);
            if (errno != EINTR) return ErrnoError() << "read";
        }
    };
}

// Reopens an O_PATH fd for reading, through its /proc/self/fd link (the inode itself, whatever
// its name has become).
Result<UniqueFd> reopen(int path_fd, int flags) {
    return open_fd("/proc/self/fd/" + std::to_string(path_fd), flags | O_CLOEXEC);
}

Result<void> walk(int fd, const struct stat& st, const std::string& path, bool top,
                  TreeSink& sink) {
    const ContentReader none;
    if (S_ISREG(st.st_mode)) {
        auto file = BERTH_TRY_CTX(reopen(fd, O_RDONLY), "reading `" + path + "`");
        return sink.add(entry_of(st, path), fd_reader(file.get()));
    }
    if (S_ISLNK(st.st_mode)) {
        CopyEntry e = entry_of(st, path);
        std::string target(PATH_MAX, '\0');
        ssize_t n = ::readlinkat(fd, "", target.data(), target.size());
        if (n < 0) return ErrnoError() << "readlink `" << path << "`";
        target.resize(size_t(n));
        e.link_target = std::move(target);
        return sink.add(e, none);
    }
    if (S_ISSOCK(st.st_mode)) return {};  // tar has no sockets; docker skips them too
    if (!S_ISDIR(st.st_mode)) return sink.add(entry_of(st, path), none);

    if (!(top && path.empty())) BERTH_TRY(sink.add(entry_of(st, path), none));
    if (!top && is_kernel_fs(fd)) return {};
    UniqueFd dir(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return ErrnoError() << "opening directory `" << path << "`";
    std::vector<std::string> names;
    {
        int listing = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
        DIR* d = listing >= 0 ? ::fdopendir(listing) : nullptr;
        if (!d) {
            if (listing >= 0) ::close(listing);
            return ErrnoError() << "listing `" << path << "`";
        }
        errno = 0;
        while (struct dirent* de = ::readdir(d)) {
            std::string_view n = de->d_name;
            if (n != "." && n != "..") names.emplace_back(n);
        }
        int err = errno;
        ::closedir(d);
        if (err) return Error::from_errno(err) << "listing `" << path << "`";
    }
    std::sort(names.begin(), names.end());
    // readdir can repeat a name that is renamed meanwhile: emit each once.
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const auto& name : names) {
        std::string child_path = path.empty() ? name : path + "/" + name;
        UniqueFd child(::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!child) {
            if (errno == ENOENT) continue;  // gone meanwhile
            return ErrnoError() << "opening `" << child_path << "`";
        }
        struct stat cst;
        if (::fstat(child.get(), &cst) != 0) return ErrnoError() << "stat `" << child_path << "`";
        BERTH_TRY(walk(child.get(), cst, child_path, false, sink));
    }
    return {};
}

// "./a//b/" -> "a/b"; ".." anywhere is refused (it would leave the top).
Result<std::string> clean_entry_path(std::string_view name) {
    std::string out;
    for (const auto& part : split(name, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            return Error(EINVAL) << "tar entry `" << name << "` leaves the destination";
        }
        if (!out.empty()) out += '/';
        out += part;
    }
    return out;
}

std::pair<std::string, std::string> split_parent(const std::string& rel) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) return {"", rel};
    return {rel.substr(0, slash), rel.substr(slash + 1)};
}

std::string archive_message(struct archive* a) {
    const char* m = archive_error_string(a);
    return m ? m : "unknown libarchive error";
}

}  // namespace

Result<UniqueFd> open_resolved(BorrowedFd dir, const std::string& path, int flags,
                               uint64_t resolve) {
    struct open_how how {};
    how.flags = uint64_t(flags | O_CLOEXEC);
    how.resolve = resolve;
    // EAGAIN: a rename somewhere raced a RESOLVE_IN_ROOT/BENEATH walk; the kernel asks for a
    // retry.
    for (int attempt = 0;; ++attempt) {
        long fd = ::syscall(SYS_openat2, dir.get(), path.c_str(), &how, sizeof(how));
        if (fd >= 0) return UniqueFd(int(fd));
        if (errno == EINTR || (errno == EAGAIN && attempt < 64)) continue;
        if (errno == ENOSYS) {
            return Error(ENOSYS) << "openat2 (Linux 5.6) is needed to resolve `" << path << "`";
        }
        return ErrnoError() << "`" << path << "`";
    }
}

Result<UniqueFd> open_in_root(BorrowedFd root, const std::string& path, bool follow, int flags) {
    std::string rel = path;
    while (rel.starts_with("/")) rel.erase(0, 1);
    if (rel.empty()) rel = ".";
    if (!follow) flags |= O_NOFOLLOW;
    return open_resolved(root, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

Result<void> walk_tree(BorrowedFd top, const std::string& name, TreeSink& sink) {
    struct stat st;
    if (::fstat(top.get(), &st) != 0) return ErrnoError() << "stat";
    if (name.empty() && !S_ISDIR(st.st_mode)) {
        return Error(ENOTDIR) << "only a directory's contents can be copied with `/.`";
    }
    return walk(top.get(), st, name, true, sink);
}

// --- tar input -----------------------------------------------------------------------------

Result<void> read_tar(BorrowedFd fd, TreeSink& sink) {
    std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(),
                                                                archive_read_free);
    if (!a) return Error(ENOMEM) << "archive_read_new";
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_format_empty(a.get());
    if (archive_read_open_fd(a.get(), fd.get(), kBuffer) != ARCHIVE_OK) {
        return Error(EINVAL) << "reading the tar stream: " << archive_message(a.get());
    }
    for (;;) {
        struct archive_entry* ent = nullptr;
        int r = archive_read_next_header(a.get(), &ent);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            return Error(EINVAL) << "reading the tar stream: " << archive_message(a.get());
        }
        const char* name = archive_entry_pathname(ent);
        if (!name) return Error(EINVAL) << "tar entry without a name";
        CopyEntry e;
        e.path = BERTH_TRY(clean_entry_path(name));
        e.mode = archive_entry_mode(ent);
        e.uid = uid_t(archive_entry_uid(ent));
        e.gid = gid_t(archive_entry_gid(ent));
        e.mtime.tv_sec = archive_entry_mtime(ent);
        e.mtime.tv_nsec = archive_entry_mtime_nsec(ent);
        e.size = archive_entry_size(ent);
        e.rdev = archive_entry_rdev(ent);
        if (const char* hard = archive_entry_hardlink(ent)) {
            e.hardlink = true;
            e.link_target = BERTH_TRY(clean_entry_path(hard));
            if (e.link_target.empty()) {
                return Error(EINVAL) << "tar entry `" << name << "`: hard link to the top";
            }
        } else if (const char* sym = archive_entry_symlink(ent)) {
            e.link_target = sym;
        }
        struct archive* ap = a.get();
        ContentReader reader = [ap](char* buf, size_t len) -> Result<size_t> {
            la_ssize_t n = archive_read_data(ap, buf, len);
            if (n < 0) return Error(EIO) << "reading the tar stream: " << archive_message(ap);
            return size_t(n);
        };
        BERTH_TRY_CTX(sink.add(e, reader), std::string("tar entry `") + name + "`");
    }
    return {};
}

// --- tar output ----------------------------------------------------------------------------

struct TarSink::State {
    struct archive* a = nullptr;
    ~State() {
        if (a) archive_write_free(a);
    }
};

TarSink::~TarSink() = default;

Result<std::unique_ptr<TarSink>> TarSink::open(BorrowedFd fd) {
    std::unique_ptr<TarSink> sink(new TarSink());
    sink->s_ = std::make_unique<State>();
    sink->s_->a = archive_write_new();
    struct archive* a = sink->s_->a;
    if (!a) return Error(ENOMEM) << "archive_write_new";
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd.get()) != ARCHIVE_OK) {
        return Error(EIO) << "writing the tar stream: " << archive_message(a);
    }
    return sink;
}

Result<void> TarSink::add(const CopyEntry& e, const ContentReader& content) {
    struct archive* a = s_->a;
    std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> ent(archive_entry_new(),
                                                                               archive_entry_free);
    std::string name = e.path.empty() ? "." : e.path;
    if (S_ISDIR(e.mode)) name += "/";
    archive_entry_set_pathname(ent.get(), name.c_str());
    archive_entry_set_mode(ent.get(), e.mode);
    archive_entry_set_uid(ent.get(), e.uid);
    archive_entry_set_gid(ent.get(), e.gid);
    archive_entry_set_mtime(ent.get(), e.mtime.tv_sec, e.mtime.tv_nsec);
    archive_entry_set_size(ent.get(), S_ISREG(e.mode) ? e.size : 0);
    if (S_ISLNK(e.mode)) archive_entry_set_symlink(ent.get(), e.link_target.c_str());
    if (S_ISCHR(e.mode) || S_ISBLK(e.mode)) archive_entry_set_rdev(ent.get(), e.rdev);
    if (archive_write_header(a, ent.get()) != ARCHIVE_OK) {
        return Error(EIO) << "writing `" << name << "` to the tar stream: " << archive_message(a);
    }
    if (!S_ISREG(e.mode)) return {};
    // The header's size is what counts: a file that grew is cut, one that shrank is padded.
    std::vector<char> buf(kBuffer);
    int64_t left = e.size;
    while (left > 0) {
        size_t want = size_t(std::min<int64_t>(left, int64_t(buf.size())));
        size_t n = BERTH_TRY(content(buf.data(), want));
        if (n == 0) {
            std::fill(buf.begin(), buf.begin() + long(want), '\0');
            n = want;
        }
        if (archive_write_data(a, buf.data(), n) < 0) {
            return Error(EIO) << "writing the tar stream: " << archive_message(a);
        }
        left -= int64_t(n);
    }
    return {};
}

Result<void> TarSink::finish() {
    if (archive_write_close(s_->a) != ARCHIVE_OK) {
        return Error(EIO) << "writing the tar stream: " << archive_message(s_->a);
    }
    return {};
}

// --- file system output --------------------------------------------------------------------

FsSink::FsSink(UniqueFd dest, std::string dest_display, FsSinkOptions options)
    : dest_(std::move(dest)), dest_display_(std::move(dest_display)), options_(options) {}

std::string FsSink::display(const std::string& rel) const {
    return rel.empty() ? dest_display_ : path_join(dest_display_, rel);
}

Result<UniqueFd> FsSink::open_dir(const std::string& rel) {
    if (rel.empty()) return dup_fd(dest_);
    auto direct = open_resolved(dest_, rel, O_PATH | O_DIRECTORY,
                                RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (direct.ok()) return direct;
    int err = direct.error().errno_value();
    if (err != ENOENT && err != ELOOP && err != ENOTDIR) {
        return std::move(direct).error().wrap("opening " + display(rel));
    }
    // One component at a time: make what is missing, follow symlinks only inside a root.
    UniqueFd cur = BERTH_TRY(dup_fd(dest_));
    std::string done;
    for (const auto& comp : split(rel, '/')) {
        std::string here = done.empty() ? comp : done + "/" + comp;
        UniqueFd next(
            ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next && errno == ENOENT) {
            if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST) {
                return ErrnoError() << "creating " << display(here);
            }
            if (::fchownat(cur.get(), comp.c_str(), options_.uid.value_or(0),
                           options_.gid.value_or(0), AT_SYMLINK_NOFOLLOW) != 0) {
                return ErrnoError() << "chown " << display(here);
            }
            next.reset(
                ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        }
        if (!next && (errno == ENOTDIR || errno == ELOOP)) {
            struct stat st;
            bool link = ::fstatat(cur.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISLNK(st.st_mode);
            if (!link) return Error(ENOTDIR) << display(here) << " is not a directory";
            if (options_.root_fd < 0) {
                return Error(ELOOP)
                       << display(here) << " is a symbolic link: not writing through it";
            }
            next = BERTH_TRY(open_in_root(options_.root_fd, path_join(options_.dest_in_root, here),
                                          true, O_PATH | O_DIRECTORY));
        }
        if (!next) return ErrnoError() << "opening " << display(here);
        cur = std::move(next);
        done = here;
    }
    return cur;
}

Result<void> FsSink::set_owner_at(int dir, const std::string& name, const CopyEntry& e) {
    if (::fchownat(dir, name.c_str(), uid_for(e), gid_for(e), AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoError() << "chown " << display(e.path);
    }
    struct timespec times[2] = {e.mtime, e.mtime};
    if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoError() << "setting the times of " << display(e.path);
    }
    return {};
}

Result<void> FsSink::add(const CopyEntry& e, const ContentReader& content) {
    if (e.path.empty()) {
        // The destination directory itself (`SRC/.`): it keeps its own attributes.
        if (!S_ISDIR(e.mode))
            return Error(ENOTDIR) << "cannot copy a non-directory onto " << dest_display_;
        return {};
    }
    auto [parent, name] = split_parent(e.path);
    if (!cached_fd_ || parent != cached_rel_) {
        cached_fd_.reset();
        cached_fd_ = BERTH_TRY(open_dir(parent));
        cached_rel_ = parent;
    }
    int dir = cached_fd_.get();
    std::string shown = display(e.path);
    bool want_dir = S_ISDIR(e.mode) && !e.hardlink;

    struct stat old;
    bool exists = ::fstatat(dir, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && S_ISDIR(old.st_mode) && !want_dir) {
        return Error(EISDIR) << "cannot overwrite directory " << shown << " with a non-directory";
    }
    if (exists && !S_ISDIR(old.st_mode)) {
        if (want_dir) {
            return Error(ENOTDIR) << "cannot overwrite non-directory " << shown
                                  << " with a directory";
        }
        if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
            return ErrnoError() << "replacing " << shown;
        }
    }

    if (e.hardlink) {
        auto [tparent, tname] = split_parent(e.link_target);
        UniqueFd tdir = BERTH_TRY(open_dir(tparent));
        if (::linkat(tdir.get(), tname.c_str(), dir, name.c_str(), 0) != 0) {
            return ErrnoError() << "linking " << shown << " to " << display(e.link_target);
        }
        return {};
    }
    mode_t perm = e.mode & 07777;
    if (want_dir) {
        if (!exists && ::mkdirat(dir, name.c_str(), 0700) != 0) {
            return ErrnoError() << "creating " << shown;
        }
        UniqueFd d(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!d) return ErrnoError() << "opening " << shown;
        if (::fchown(d.get(), uid_for(e), gid_for(e)) != 0)
            return ErrnoError() << "chown " << shown;
        if (::fchmod(d.get(), perm) != 0) return ErrnoError() << "chmod " << shown;
        dir_times_.push_back({e.path, e.mtime});
        return {};
    }
    if (S_ISREG(e.mode)) {
        UniqueFd f(::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600));
        if (!f) return ErrnoError() << "creating " << shown;
        std::vector<char> buf(kBuffer);
        for (;;) {
            size_t n = BERTH_TRY(content(buf.data(), buf.size()));
            if (n == 0) break;
            BERTH_TRY_CTX(write_all(f, std::string_view(buf.data(), n)), "writing " + shown);
        }
        // chown first: it clears set-user-ID, which chmod then puts back.
        if (::fchown(f.get(), uid_for(e), gid_for(e)) != 0)
            return ErrnoError() << "chown " << shown;
        if (::fchmod(f.get(), perm) != 0) return ErrnoError() << "chmod " << shown;
        struct timespec times[2] = {e.mtime, e.mtime};
        if (::futimens(f.get(), times) != 0)
            return ErrnoError() << "setting the times of " << shown;
        return {};
    }
    if (S_ISLNK(e.mode)) {
        if (::symlinkat(e.link_target.c_str(), dir, name.c_str()) != 0) {
            return ErrnoError() << "creating symlink " << shown;
        }
        return set_owner_at(dir, name, e);
    }
    if (S_ISFIFO(e.mode) || S_ISCHR(e.mode) || S_ISBLK(e.mode)) {
        if (::mknodat(dir, name.c_str(), (e.mode & S_IFMT) | 0600, e.rdev) != 0) {
            return ErrnoError() << "creating " << shown;
        }
        BERTH_TRY(set_owner_at(dir, name, e));
        // chmod through the fd's /proc link: a path could have been swapped for a symlink.
        UniqueFd node(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        struct stat st;
        if (!node || ::fstat(node.get(), &st) != 0 || (st.st_mode & S_IFMT) != (e.mode & S_IFMT)) {
            return Error(EIO) << shown << " changed while it was being created";
        }
        std::string link = "/proc/self/fd/" + std::to_string(node.get());
        if (::chmod(link.c_str(), perm) != 0) return ErrnoError() << "chmod " << shown;
        return {};
    }
    return {};  // sockets and unknown types: nothing to make
}

Result<void> FsSink::finish() {
    cached_fd_.reset();
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
        auto [parent, name] = split_parent(it->rel);
        auto d = open_dir(parent);
        if (!d.ok()) continue;  // removed meanwhile (a running container): nothing to date
        struct timespec times[2] = {it->mtime, it->mtime};
        (void)::utimensat(d->get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
    return {};
}

}  // namespace berth::engine
