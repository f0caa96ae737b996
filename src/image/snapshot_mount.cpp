#include "image/snapshot_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "image/snapshots.h"

namespace berth::image {
namespace {

// The kernel copies mount(2)'s data with one page.
constexpr size_t kMountDataMax = 4095;

std::string describe(const std::string& target) {
    return "mount overlay at `" + target + "`";
}

// The fs context's own messages ("e overlay: ...") say more than its errno.
std::string context_log(int fs_fd) {
    std::string out;
    char buf[512];
    for (;;) {
        ssize_t n = ::read(fs_fd, buf, sizeof(buf));
        if (n <= 0) break;
        if (!out.empty()) out += "; ";
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Error fs_error(int fs_fd, const std::string& what, const std::string& target) {
    int err = errno;
    Error e = Error::from_errno(err);
    e << describe(target) << ": " << what;
    std::string log = context_log(fs_fd);
    if (!log.empty()) e << " (" << log << ")";
    return e;
}

// false, when a fallback is allowed, on kernels without fsopen or without "lowerdir+" (6.8).
Result<bool> mount_fsconfig(const std::vector<std::string>& lowers, const std::string& upper,
                            const std::string& work, const std::string& target, bool transient,
                            bool allow_fallback) {
    int raw = ::fsopen("overlay", FSOPEN_CLOEXEC);
    if (raw < 0) {
        if (allow_fallback && errno == ENOSYS) return false;
        return ErrnoError() << describe(target) << ": fsopen";
    }
    UniqueFd fs(raw);
    for (size_t i = 0; i < lowers.size(); ++i) {
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", lowers[i].c_str(), 0) < 0) {
            if (i == 0 && allow_fallback && errno == EINVAL) return false;
            return fs_error(fs.get(), "lowerdir+ `" + lowers[i] + "`", target);
        }
    }
    if (!upper.empty()) {
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) < 0)
            return fs_error(fs.get(), "upperdir `" + upper + "`", target);
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) < 0)
            return fs_error(fs.get(), "workdir `" + work + "`", target);
        // Layers are shared by many overlays: the inode index would tie them to one.
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "index", "off", 0) < 0)
            return fs_error(fs.get(), "index=off", target);
        if (transient && ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0) < 0)
            return fs_error(fs.get(), "volatile", target);
    }
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return fs_error(fs.get(), "create", target);
    int m = ::fsmount(fs.get(), FSMOUNT_CLOEXEC, upper.empty() ? MOUNT_ATTR_RDONLY : 0);
    if (m < 0) return fs_error(fs.get(), "fsmount", target);
    UniqueFd mnt(m);
    if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return ErrnoError() << describe(target) << ": move_mount";
    return true;
}

Result<void> mount_data(const std::vector<std::string>& lowers, const std::string& upper,
                        const std::string& work, const std::string& target, bool transient) {
    std::string tail;
    if (!upper.empty()) tail = ",upperdir=" + upper + ",workdir=" + work + ",index=off";
    if (!upper.empty() && transient) tail += ",volatile";
    std::string data = "lowerdir=" + overlay_lowerdir_option(lowers) + tail;
    std::vector<UniqueFd> held;  // keeps /proc/self/fd/N valid until mount(2) has resolved them
    if (data.size() > kMountDataMax) {
        std::vector<std::string> short_names;
        for (const auto& l : lowers) {
            int fd = ::open(l.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) return ErrnoError() << describe(target) << ": open lower `" << l << "`";
            held.emplace_back(fd);
            short_names.push_back("/proc/self/fd/" + std::to_string(fd));
        }
        data = "lowerdir=" + overlay_lowerdir_option(short_names) + tail;
        if (data.size() > kMountDataMax)
            return Error(E2BIG) << describe(target) << ": " << lowers.size()
                                << " layers do not fit mount(2)'s options";
    }
    unsigned long flags = upper.empty() ? MS_RDONLY : 0;
    if (::mount("overlay", target.c_str(), "overlay", flags, data.c_str()) < 0)
        return ErrnoError() << describe(target) << " (" << lowers.size() << " layers)";
    return {};
}

Result<void> bind_read_only(const std::string& lower, const std::string& target) {
    if (::mount(lower.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0)
        return ErrnoError() << "bind `" << lower << "` at `" << target << "`";
    if (::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) < 0) {
        int err = errno;
        ::umount2(target.c_str(), MNT_DETACH);
        return Error::from_errno(err) << "make `" << target << "` read-only";
    }
    return {};
}

}  // namespace

std::string overlay_lowerdir_option(const std::vector<std::string>& lower_top_first) {
    std::string out;
    for (size_t i = 0; i < lower_top_first.size(); ++i) {
        if (i) out.push_back(':');
        for (char c : lower_top_first[i]) {
            if (c == '\\' || c == ':' || c == ',') out.push_back('\\');
            out.push_back(c);
        }
    }
    return out;
}

Result<void> mount_overlay_via(OverlayApi api, const std::vector<std::string>& lower_top_first,
                               const std::string& upper, const std::string& work,
                               const std::string& target, bool transient) {
    if (lower_top_first.empty()) return Error(EINVAL) << describe(target) << ": no layers";
    if (upper.empty() != work.empty())
        return Error(EINVAL) << describe(target) << ": upperdir and workdir go together";
    if (api == OverlayApi::MountData)
        return mount_data(lower_top_first, upper, work, target, transient);
    bool done = BERTH_TRY(
        mount_fsconfig(lower_top_first, upper, work, target, transient, api == OverlayApi::Auto));
    if (done) return {};
    return mount_data(lower_top_first, upper, work, target, transient);
}

Result<void> mount_overlay(const std::vector<std::string>& lower_top_first,
                           const std::string& upper, const std::string& work,
                           const std::string& target, bool transient) {
    // One layer, nothing to write: no union needed (a bottom layer's whiteouts hide nothing;
    // they would show as 0/0 devices, as they do in a bind of any layer).
    if (lower_top_first.size() == 1 && upper.empty())
        return bind_read_only(lower_top_first.front(), target);
    return mount_overlay_via(OverlayApi::Auto, lower_top_first, upper, work, target, transient);
}

}  // namespace berth::image
