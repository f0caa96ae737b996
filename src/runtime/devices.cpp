#include "runtime/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/file.h"
#include "runtime/secure_path.h"

namespace berth::runtime {

const std::vector<oci::Device>& default_devices() {
    static const std::vector<oci::Device> devs = {
        {"c", "/dev/null", 1, 3, 0666, 0, 0},    {"c", "/dev/zero", 1, 5, 0666, 0, 0},
        {"c", "/dev/full", 1, 7, 0666, 0, 0},    {"c", "/dev/random", 1, 8, 0666, 0, 0},
        {"c", "/dev/urandom", 1, 9, 0666, 0, 0}, {"c", "/dev/tty", 5, 0, 0666, 0, 0},
    };
    return devs;
}

std::vector<oci::DeviceCgroup> default_device_rules() {
    std::vector<oci::DeviceCgroup> rules;
    for (auto& d : default_devices()) rules.push_back({true, "c", d.major, d.minor, "rwm"});
    rules.push_back({true, "c", 136, std::nullopt, "rwm"});  // /dev/pts/*
    rules.push_back({true, "c", 5, 2, "rwm"});               // /dev/ptmx
    return rules;
}

static Result<void> create_device(const std::string& rootfs, const oci::Device& d, bool userns) {
    std::string path = BERTH_TRY(resolve_in_root(rootfs, d.path));
    BERTH_TRY(mkdir_p(path_dirname(path), 0755));
    mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
    mode_t perm = d.file_mode.value_or(0666) & 07777;
    if (userns && type != S_IFIFO) {
        // mknod is not allowed in a user namespace: bind the host's node over an empty file.
        int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) return ErrnoError() << "create `" << path << "`";
        ::close(fd);
        if (::mount(d.path.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0)
            return ErrnoError() << "bind `" << d.path << "` on `" << path << "`";
        return {};
    }
    ::unlink(path.c_str());
    dev_t dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    if (::mknod(path.c_str(), type | perm, type == S_IFIFO ? 0 : dev) < 0)
        return ErrnoError() << "mknod `" << path << "`";
    // mknod honours the umask; set the mode the spec asked for exactly.
    if (::chmod(path.c_str(), perm) < 0) return ErrnoError() << "chmod `" << path << "`";
    if (::chown(path.c_str(), d.uid.value_or(0), d.gid.value_or(0)) < 0)
        return ErrnoError() << "chown `" << path << "`";
    return {};
}

Result<void> create_devices(const std::string& rootfs, const std::vector<oci::Device>& devices,
                            bool userns, const char* field) {
    for (size_t i = 0; i < devices.size(); ++i) {
        auto r = create_device(rootfs, devices[i], userns);
        if (!r)
            return std::move(r).error().wrap(std::string(field) + "[" + std::to_string(i) + "] (`" +
                                             devices[i].path + "`)");
    }
    return {};
}

Result<void> create_dev_symlinks(const std::string& rootfs) {
    static const std::pair<const char*, const char*> links[] = {
        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    std::string dev = path_join(rootfs, "dev");
    for (auto& [target, name] : links) {
        std::string link = path_join(dev, name);
        if (std::string(name) == "ptmx") ::unlink(link.c_str());
        if (::symlink(target, link.c_str()) < 0 && errno != EEXIST)
            return ErrnoError() << "symlink `" << link << "`";
    }
    if (path_exists("/proc/kcore")) {
        std::string core = path_join(dev, "core");
        if (::symlink("/proc/kcore", core.c_str()) < 0 && errno != EEXIST)
            return ErrnoError() << "symlink `" << core << "`";
    }
    return {};
}

}  // namespace berth::runtime
