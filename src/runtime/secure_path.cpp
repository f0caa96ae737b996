#include "runtime/secure_path.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "base/file.h"
#include "base/strings.h"

namespace berth::runtime {
namespace {

// A path's components, without empty ones and ".".
std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> out;
    for (auto& c : split(path, '/'))
        if (!c.empty() && c != ".") out.push_back(c);
    return out;
}

std::string join_from(const std::vector<std::string>& parts, size_t first) {
    std::string out;
    for (size_t i = first; i < parts.size(); ++i) out += "/" + parts[i];
    return out;
}

// Creates what is missing of `dest` inside the root, one component at a time: each parent is
// opened with open_in_root, so whatever the image's symlinks say, creation stays inside.
Result<UniqueFd> create_in_root(BorrowedFd root, const std::string& dest, bool as_file, int depth) {
    auto existing = open_in_root(root, dest);
    if (existing || existing.error().errno_value() != ENOENT) return existing;
    if (depth > 40) return Error(ELOOP) << "create `" << dest << "` in the rootfs";
    auto parts = components(dest);
    std::string done = "/";  // the prefix of dest known to exist
    for (size_t i = 0; i < parts.size(); ++i) {
        std::string next = path_join(done, parts[i]);
        auto probe = open_in_root(root, next);
        if (probe) {
            done = std::move(next);
            continue;
        }
        if (probe.error().errno_value() != ENOENT) return std::move(probe).error();
        UniqueFd parent = BERTH_TRY(open_in_root(root, done, O_PATH | O_DIRECTORY));
        const char* name = parts[i].c_str();
        int r;
        if (as_file && i + 1 == parts.size()) {
            r = ::openat(parent.get(), name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                         0644);
            if (r >= 0) ::close(r);
        } else {
            r = ::mkdirat(parent.get(), name, 0755);
        }
        if (r < 0 && errno == EEXIST) {
            // A dangling symlink: create what it points to, resolved from where it lives.
            char buf[PATH_MAX];
            ssize_t n = ::readlinkat(parent.get(), name, buf, sizeof(buf) - 1);
            if (n < 0 && errno == EINVAL) {  // someone else created it meanwhile
                done = std::move(next);
                continue;
            }
            if (n < 0) return ErrnoError() << "readlink `" << next << "` in the rootfs";
            std::string target(buf, static_cast<size_t>(n));
            std::string base = target[0] == '/' ? target : path_join(done, target);
            return create_in_root(root, base + join_from(parts, i + 1), as_file, depth + 1);
        }
        if (r < 0) return ErrnoError() << "create `" << next << "` in the rootfs";
        done = std::move(next);
    }
    return open_in_root(root, dest);
}

}  // namespace

Result<std::string> resolve_in_root(const std::string& root, const std::string& path) {
    std::vector<std::string> pending;  // components still to walk, in reverse order
    auto push_path = [&pending](const std::string& p) {
        auto parts = components(p);
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(*it);
    };
    push_path(path);
    std::string resolved;  // relative to root, always starting with '/' or empty
    int links = 0;
    while (!pending.empty()) {
        std::string comp = std::move(pending.back());
        pending.pop_back();
        if (comp == "..") {
            auto pos = resolved.rfind('/');
            resolved = pos == std::string::npos ? "" : resolved.substr(0, pos);
            continue;
        }
        std::string candidate = resolved + "/" + comp;
        std::string full = root + candidate;
        struct stat st;
        if (::lstat(full.c_str(), &st) < 0 || !S_ISLNK(st.st_mode)) {
            resolved = std::move(candidate);
            continue;
        }
        if (++links > 255) return Error(ELOOP) << "resolve `" << path << "` in `" << root << "`";
        char buf[PATH_MAX];
        ssize_t n = ::readlink(full.c_str(), buf, sizeof(buf) - 1);
        if (n < 0) return ErrnoError() << "readlink `" << full << "`";
        std::string target(buf, static_cast<size_t>(n));
        if (!target.empty() && target[0] == '/') resolved.clear();
        push_path(target);
    }
    return root + (resolved.empty() ? "/" : resolved);
}

std::string fd_path(BorrowedFd fd) {
    return "/proc/self/fd/" + std::to_string(fd.get());
}

Result<UniqueFd> open_in_root(BorrowedFd root, const std::string& path, int flags) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const char* rel = path.empty() ? "." : path.c_str();
    for (int attempt = 0;; ++attempt) {
        long fd = ::syscall(SYS_openat2, root.get(), rel, &how, sizeof(how));
        if (fd >= 0) return UniqueFd(static_cast<int>(fd));
        // EAGAIN: a rename raced with ".." resolution; the kernel asks us to retry.
        if (errno != EAGAIN || attempt == 16) break;
    }
    if (errno == ENOSYS)
        return Error(ENOSYS) << "openat2 (Linux 5.6) is needed to resolve `" << path << "`";
    return ErrnoError() << "open `" << path << "` in the rootfs";
}

Result<UniqueFd> open_mount_point(BorrowedFd root, const std::string& dest, bool as_file) {
#ifndef BERTH_WEAKEN_SYMLINK_MOUNT
    return create_in_root(root, dest, as_file, 0);
#else
    // Weakened build: rootfs + destination, so the image's symlinks lead out of the root.
    std::string path = fd_path(root) + "/" + dest;
    BERTH_TRY(mkdir_p(as_file ? path_dirname(path) : path, 0755));
    if (as_file) UniqueFd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    return open_fd(path, O_PATH);
#endif
}

Result<void> make_cwd_in_root(const std::string& rootfs, const std::string& cwd) {
    UniqueFd root = BERTH_TRY(open_fd(rootfs, O_PATH | O_DIRECTORY));
    auto r = open_mount_point(root, cwd, false);
    if (!r && r.error().errno_value() == ELOOP) return {};
    if (!r) return std::move(r).error();
    return {};
}

}  // namespace berth::runtime
