#include "engine/rootfs.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/file.h"
#include "base/strings.h"
#include "image/snapshots.h"

namespace berth::engine {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            auto v = parse_number<int>(s.substr(i + 1, 3), 8);
            if (v) {
                out += char(*v);
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

}  // namespace

std::vector<std::string> mounts_under(const std::string& prefix) {
    std::vector<std::string> out;
    auto text = read_file("/proc/self/mountinfo");
    if (!text.ok()) return out;
    std::string clean = path_clean(prefix);
    for (const auto& line : split(*text, '\n')) {
        auto fields = split(line, ' ');
        if (fields.size() < 5) continue;
        std::string mp = unescape_mountinfo(fields[4]);
        if (mp == clean || mp.starts_with(clean + "/")) out.push_back(mp);
    }
    std::sort(out.begin(), out.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool is_mount_point(const std::string& path) {
    struct stat self, parent;
    if (::stat(path.c_str(), &self) != 0) return false;
    if (::stat(path_dirname(path).c_str(), &parent) != 0) return false;
    if (self.st_dev != parent.st_dev) return true;
    // A bind of the same filesystem keeps the device: ask the mount table.
    auto m = mounts_under(path);
    return std::find(m.begin(), m.end(), path_clean(path)) != m.end();
}

Result<void> mount_rootfs(const std::vector<std::string>& lower_top_first, const std::string& upper,
                          const std::string& work, const std::string& target, bool transient) {
    BERTH_TRY(mkdir_p(upper, 0755));
    BERTH_TRY(mkdir_p(work, 0700));
    BERTH_TRY(mkdir_p(target, 0755));
    if (is_mount_point(target)) return {};
    BERTH_TRY_CTX(image::mount_overlay(lower_top_first, upper, work, target, transient),
                  "mounting the rootfs at `" + target + "`");
    return {};
}

Result<void> unmount_tree(const std::string& target) {
    for (const auto& mp : mounts_under(target)) {
        if (::umount2(mp.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
            return ErrnoError() << "unmounting `" << mp << "`";
        }
    }
    return {};
}

}  // namespace berth::engine
