#include "runtime/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"

namespace berth::runtime {
namespace {

constexpr uint64_t bit(int cap) {
    return uint64_t{1} << cap;
}

Result<uint64_t> resolve_set(const std::vector<std::string>& names, const char* set_name,
                             int last_cap) {
    uint64_t set = 0;
    for (size_t i = 0; i < names.size(); ++i) {
        auto cap = cap_from_name(names[i]);
        if (!cap) {
            return Error(EINVAL) << "process.capabilities." << set_name << "[" << i
                                 << "]: unknown capability \"" << names[i] << "\"";
        }
        if (*cap > last_cap) {
            log::warn(std::string("process.capabilities.") + set_name + ": " + names[i] +
                      " is not supported by the running kernel; ignoring it");
            continue;
        }
        set |= bit(*cap);
    }
    return set;
}

}  // namespace

std::string caps_to_names(uint64_t set) {
    std::string out;
    for (int cap = 0; cap < 64; ++cap) {
        if (!(set & bit(cap))) continue;
        if (!out.empty()) out += ',';
        const char* name = cap_name(cap);
        out += name ? std::string(name) : std::to_string(cap);
    }
    return out;
}

Result<int> read_last_cap() {
    const std::string path = "/proc/sys/kernel/cap_last_cap";
    std::string text = BERTH_TRY(read_file(path));
    auto value = parse_number<int>(trim(text));
    if (!value || *value < 0 || *value > 63) {
        return Error(EINVAL) << "parsing `" << path << "`: unexpected \"" << std::string(trim(text))
                             << "\"";
    }
    return *value;
}

Result<CapSets> resolve_caps(const oci::Capabilities& c) {
    auto last = read_last_cap();
    if (!last.ok()) {
        // No /proc (unusual for a runtime): trust our own table; capset then reports the rest.
        log::warn("cannot read the kernel's last capability, assuming " +
                  std::to_string(kLastKnownCap) + ": " + last.error().what());
        return resolve_caps(c, kLastKnownCap);
    }
    return resolve_caps(c, *last);
}

Result<CapSets> resolve_caps(const oci::Capabilities& c, int last_cap) {
    CapSets sets;
    sets.last_cap = last_cap;
    sets.bounding = BERTH_TRY(resolve_set(c.bounding, "bounding", last_cap));
    sets.effective = BERTH_TRY(resolve_set(c.effective, "effective", last_cap));
    sets.inheritable = BERTH_TRY(resolve_set(c.inheritable, "inheritable", last_cap));
    sets.permitted = BERTH_TRY(resolve_set(c.permitted, "permitted", last_cap));
    uint64_t ambient = BERTH_TRY(resolve_set(c.ambient, "ambient", last_cap));
    // PR_CAP_AMBIENT_RAISE fails for a cap not both permitted and inheritable; runc warns and
    // goes on, and so do we, but decided here where we can still log.
    sets.ambient = ambient & sets.permitted & sets.inheritable;
    if (uint64_t dropped = ambient & ~sets.ambient) {
        log::debug("process.capabilities.ambient: " + caps_to_names(dropped) +
                   " not both permitted and inheritable; not raising them");
    }
    return sets;
}

int drop_bounding(const CapSets& caps) {
    for (int cap = 0; cap <= caps.last_cap && cap < 64; ++cap) {
        if (caps.bounding & bit(cap)) continue;
        // Dropping needs CAP_SETPCAP even for a cap already gone: ask first.
        int present = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (present < 0) {
            if (errno == EINVAL) continue;  // the kernel does not know this cap
            return -errno;
        }
        if (present == 0) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return -errno;
    }
    return 0;
}

int set_keepcaps(bool keep) {
    if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0) return -errno;
    return 0;
}

int apply_caps(const CapSets& caps) {
    struct __user_cap_header_struct header {};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    struct __user_cap_data_struct data[2]{};
    for (int i = 0; i < 2; ++i) {
        const int shift = 32 * i;
        data[i].effective = static_cast<uint32_t>(caps.effective >> shift);
        data[i].permitted = static_cast<uint32_t>(caps.permitted >> shift);
        data[i].inheritable = static_cast<uint32_t>(caps.inheritable >> shift);
    }
    if (::syscall(SYS_capset, &header, data) < 0) return -errno;

    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
        // Kernels before 4.3 have no ambient set; only an error if one was asked for.
        if (errno != EINVAL || caps.ambient != 0) return -errno;
        return 0;
    }
    for (int cap = 0; cap <= caps.last_cap && cap < 64; ++cap) {
        if (!(caps.ambient & bit(cap))) continue;
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return -errno;
    }
    return 0;
}

int set_no_new_privs() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -errno;
    return 0;
}

}  // namespace berth::runtime
