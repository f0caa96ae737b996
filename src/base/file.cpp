#include "base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace berth {

Result<std::string> read_fd(BorrowedFd fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "read";
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<std::string> read_file(const std::string& path) {
    UniqueFd fd = BERTH_TRY(open_fd(path, O_RDONLY));
    auto r = read_fd(fd);
    if (!r) return std::move(r).error().wrap("`" + path + "`");
    return r;
}

Result<void> write_all(BorrowedFd fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd.get(), data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "write";
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<void> write_file(const std::string& path, std::string_view data, bool create, mode_t mode) {
    UniqueFd fd = BERTH_TRY(open_fd(path, O_WRONLY | O_TRUNC | (create ? O_CREAT : 0), mode));
    auto r = write_all(fd, data);
    if (!r) return std::move(r).error().wrap("write `" + path + "`");
    return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    // A name of our own (concurrent writers of one file must not share a temporary), ending in
    // .tmp as directory listings that skip temporaries expect.
    std::string tmp =
        path + "." + std::to_string(::getpid()) + "-" + std::to_string(::gettid()) + ".tmp";
    {
        UniqueFd fd = BERTH_TRY(open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
        auto r = write_all(fd, data);
        if (!r) {
            ::unlink(tmp.c_str());
            return std::move(r).error().wrap("write `" + tmp + "`");
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        Error e = ErrnoError() << "rename `" << tmp << "` to `" << path << "`";
        ::unlink(tmp.c_str());
        return e;
    }
    return {};
}

Result<void> mkdir_p(const std::string& path, mode_t mode) {
    if (path.empty()) return {};
    if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) {
        if (errno == EEXIST && !is_directory(path))
            return Error(ENOTDIR) << "mkdir `" << path << "`";
        return {};
    }
    if (errno != ENOENT) return ErrnoError() << "mkdir `" << path << "`";
    std::string parent = path_dirname(path);
    // Another process may remove an empty parent between our two mkdirs (gc removes empty
    // cgroup parents like /berth): make it again, a few times.
    for (int attempt = 0;; ++attempt) {
        if (parent != path) BERTH_TRY(mkdir_p(parent, mode));
        if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return {};
        if (errno != ENOENT || attempt == 3) return ErrnoError() << "mkdir `" << path << "`";
    }
}

static Result<void> remove_tree_at(int dirfd, const char* name, dev_t dev) {
    struct stat st;
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return {};
        return ErrnoError() << "stat `" << name << "`";
    }
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev) return Error(EBUSY) << "`" << name << "` is a mount point";
        int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return ErrnoError() << "open `" << name << "`";
        DIR* d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            return ErrnoError() << "fdopendir";
        }
        std::vector<std::string> names;
        while (auto* e = ::readdir(d)) {
            if (std::string_view(e->d_name) == "." || std::string_view(e->d_name) == "..") continue;
            names.emplace_back(e->d_name);
        }
        Result<void> r;
        for (auto& n : names) {
            r = remove_tree_at(::dirfd(d), n.c_str(), dev);
            if (!r) break;
        }
        ::closedir(d);
        if (!r) return r;
        if (::unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return ErrnoError() << "rmdir `" << name << "`";
        return {};
    }
    if (::unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        return ErrnoError() << "unlink `" << name << "`";
    return {};
}

Result<void> remove_all(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT) return {};
        return ErrnoError() << "stat `" << path << "`";
    }
    auto r = remove_tree_at(AT_FDCWD, path.c_str(), st.st_dev);
    if (!r) return std::move(r).error().wrap("remove `" + path + "`");
    return {};
}

bool path_exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string path_join(std::string_view a, std::string_view b) {
    std::string r(a);
    while (!b.empty() && b.front() == '/') b.remove_prefix(1);
    if (r.empty() || r.back() != '/') r.push_back('/');
    r.append(b);
    return r;
}

std::string path_dirname(std::string_view p) {
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    auto pos = p.rfind('/');
    if (pos == std::string_view::npos) return ".";
    if (pos == 0) return "/";
    return std::string(p.substr(0, pos));
}

std::string path_clean(std::string_view p) {
    bool abs = !p.empty() && p.front() == '/';
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string_view::npos) j = p.size();
        std::string_view part = p.substr(i, j - i);
        if (part.empty() || part == ".") {
        } else if (part == "..") {
            if (!parts.empty() && parts.back() != "..")
                parts.pop_back();
            else if (!abs)
                parts.push_back(part);
        } else {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string r(abs ? 1 : 0, '/');
    for (size_t k = 0; k < parts.size(); ++k) {
        if (k) r.push_back('/');
        r.append(parts[k]);
    }
    if (r.empty()) return std::string(1, '.');
    return r;
}

}  // namespace berth
