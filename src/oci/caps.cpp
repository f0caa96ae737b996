#include "oci/caps.h"

#include <linux/capability.h>

#include <array>

namespace berth::oci {
namespace {

// Indexed by capability number.
constexpr std::array<const char*, kLastKnownCap + 1> kCapNames{
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
static_assert(CAP_CHOWN == 0 && CAP_SETPCAP == 8 && CAP_SYS_ADMIN == 21 && CAP_SETFCAP == 31);
static_assert(CAP_AUDIT_READ == 37);
#ifdef CAP_CHECKPOINT_RESTORE
static_assert(CAP_CHECKPOINT_RESTORE == kLastKnownCap);
#endif

}  // namespace

const char* cap_name(int cap) {
    if (cap < 0 || cap > kLastKnownCap) return nullptr;
    return kCapNames[static_cast<size_t>(cap)];
}

std::optional<int> cap_from_name(std::string_view name) {
    for (int cap = 0; cap <= kLastKnownCap; ++cap) {
        if (name == kCapNames[static_cast<size_t>(cap)]) return cap;
    }
    return std::nullopt;
}

}  // namespace berth::oci
