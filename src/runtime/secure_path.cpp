#include "runtime/secure_path.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "base/file.h"
#include "base/strings.h"

namespace berth::runtime {

Result<std::string> resolve_in_root(const std::string& root, const std::string& path) {
    std::vector<std::string> pending;  // components still to walk, in reverse order
    auto push_path = [&pending](const std::string& p) {
        auto parts = split(p, '/');
        for (auto it = parts.rbegin(); it != parts.rend(); ++it)
            if (!it->empty() && *it != ".") pending.push_back(*it);
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

Result<std::string> make_mount_point(const std::string& root, const std::string& dest, bool as_file) {
    std::string full = BERTH_TRY(resolve_in_root(root, dest));
    struct stat st;
    if (::stat(full.c_str(), &st) == 0) return full;
    if (as_file) {
        BERTH_TRY(mkdir_p(path_dirname(full), 0755));
        int fd = ::open(full.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) return ErrnoError() << "create mount point `" << full << "`";
        if (fd >= 0) ::close(fd);
    } else {
        BERTH_TRY(mkdir_p(full, 0755));
    }
    return full;
}

}  // namespace berth::runtime
