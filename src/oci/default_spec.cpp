// The config.json that `berth-runtime spec` writes: the same container as runc's `runc spec`
// (sh on a read-only rootfs/, default mounts, masked and read-only /proc and /sys paths).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace berth::oci {

namespace {

using OJson = nlohmann::ordered_json;

OJson mount(const char* dest, const char* type, const char* source,
            std::initializer_list<const char*> options) {
    OJson m = {{"destination", dest}, {"type", type}, {"source", source}};
    if (options.size() > 0) {
        OJson opts = OJson::array();
        for (const char* o : options) opts.push_back(o);
        m["options"] = std::move(opts);
    }
    return m;
}

OJson id_map(uint32_t host_id) {
    return OJson::array({{{"containerID", 0}, {"hostID", host_id}, {"size", 1}}});
}

}  // namespace

std::string default_spec_json(bool rootless) {
    const OJson caps = OJson::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
    OJson process = {
        {"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true},
    };

    OJson mounts = OJson::array();
    mounts.push_back(mount("/proc", "proc", "proc", {}));
    mounts.push_back(
        mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
    // gid=5 (tty) may not be mapped in a rootless user namespace, so it is left out there.
    if (rootless) {
        mounts.push_back(mount("/dev/pts", "devpts", "devpts",
                               {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
    } else {
        mounts.push_back(
            mount("/dev/pts", "devpts", "devpts",
                  {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
    }
    mounts.push_back(mount("/dev/shm", "tmpfs", "shm",
                           {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
    mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
    // Without its own network namespace a rootless container may not mount sysfs; bind it.
    if (rootless) {
        mounts.push_back(
            mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
    } else {
        mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
    }
    mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                           {"nosuid", "noexec", "nodev", "relatime", "ro"}));

    OJson namespaces = OJson::array();
    for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
        if (rootless && std::string_view(type) == "network") continue;
        namespaces.push_back({{"type", type}});
    }
    if (rootless) namespaces.push_back({{"type", "user"}});

    OJson linux_obj = OJson::object();
    if (rootless) {
        linux_obj["uidMappings"] = id_map(geteuid());
        linux_obj["gidMappings"] = id_map(getegid());
    } else {
        linux_obj["resources"] = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
    }
    linux_obj["namespaces"] = namespaces;
    linux_obj["maskedPaths"] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
        "/sys/devices/virtual/powercap",
    };
    linux_obj["readonlyPaths"] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    };

    OJson spec = {
        {"ociVersion", "1.2.0"},
        {"process", process},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "berth"},
        {"mounts", mounts},
        {"linux", linux_obj},
    };
    return spec.dump(1, '\t') + "\n";
}

}  // namespace berth::oci
