#include "runtime/process_attrs.h"

#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

#include "base/syscalls.h"

namespace berth::runtime {
namespace {

template <typename V>
struct Named {
    const char* name;
    V value;
};

template <typename V, size_t N>
std::optional<V> lookup(const std::array<Named<V>, N>& table, std::string_view name) {
    for (const auto& e : table) {
        if (name == e.name) return e.value;
    }
    return std::nullopt;
}

constexpr std::array<Named<int>, 16> kRlimits{{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

// SCHED_ISO is in the spec but was never merged into Linux; resolve_scheduler rejects it.
constexpr int kSchedIso = 4;
constexpr std::array<Named<int>, 7> kPolicies{{
    {"SCHED_OTHER", SCHED_OTHER},
    {"SCHED_FIFO", SCHED_FIFO},
    {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH},
    {"SCHED_ISO", kSchedIso},
    {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", 6},
}};

// <linux/sched.h> values; that header clashes with glibc's <sched.h>.
constexpr std::array<Named<uint64_t>, 7> kSchedFlags{{
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},
    {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
}};

constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassShift = 13;
constexpr std::array<Named<int>, 3> kIoprioClasses{{
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
}};

constexpr std::array<Named<unsigned long>, 2> kDomains{{
    {"LINUX", PER_LINUX},
    {"LINUX32", PER_LINUX32},
}};
constexpr std::array<Named<unsigned long>, 3> kPersonalityFlags{{
    {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
    {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
    {"UNAME26", UNAME26},
}};

}  // namespace

std::optional<int> rlimit_from_name(std::string_view name) {
    return lookup(kRlimits, name);
}

const char* rlimit_name(int resource) {
    for (const auto& e : kRlimits) {
        if (e.value == resource) return e.name;
    }
    return nullptr;
}

Result<std::vector<ResolvedRlimit>> resolve_rlimits(const std::vector<oci::Rlimit>& rlimits) {
    std::vector<ResolvedRlimit> out;
    out.reserve(rlimits.size());
    for (size_t i = 0; i < rlimits.size(); ++i) {
        const auto& r = rlimits[i];
        auto resource = rlimit_from_name(r.type);
        if (!resource) {
            return Error(EINVAL) << "process.rlimits[" << i << "].type: unknown rlimit \"" << r.type
                                 << "\"";
        }
        for (size_t j = 0; j < i; ++j) {
            if (out[j].resource == *resource) {
                return Error(EINVAL) << "process.rlimits[" << i << "].type: " << r.type
                                     << " is already set by process.rlimits[" << j << "]";
            }
        }
        if (r.soft > r.hard) {
            return Error(EINVAL) << "process.rlimits[" << i << "]: soft limit " << r.soft
                                 << " exceeds hard limit " << r.hard;
        }
        out.push_back({*resource, r.soft, r.hard});
    }
    return out;
}

int apply_rlimits(const ResolvedRlimit* rlimits, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        struct rlimit lim;
        lim.rlim_cur = rlimits[i].soft;
        lim.rlim_max = rlimits[i].hard;
        if (::setrlimit(static_cast<__rlimit_resource>(rlimits[i].resource), &lim) < 0) {
            return -errno;
        }
    }
    return 0;
}

std::optional<int> sched_policy_from_name(std::string_view name) {
    return lookup(kPolicies, name);
}

std::optional<uint64_t> sched_flag_from_name(std::string_view name) {
    return lookup(kSchedFlags, name);
}

Result<SchedAttr> resolve_scheduler(const oci::Scheduler& s) {
    auto policy = sched_policy_from_name(s.policy);
    if (!policy) {
        return Error(EINVAL) << "process.scheduler.policy: unknown policy \"" << s.policy << "\"";
    }
    if (*policy == kSchedIso) {
        return Error(EINVAL) << "process.scheduler.policy: SCHED_ISO is not implemented by Linux";
    }
    if (s.nice < -20 || s.nice > 19) {
        return Error(EINVAL) << "process.scheduler.nice: " << s.nice
                             << " is out of range (-20 to 19)";
    }
    const bool realtime = *policy == SCHED_FIFO || *policy == SCHED_RR;
    if (realtime && (s.priority < 1 || s.priority > 99)) {
        return Error(EINVAL) << "process.scheduler.priority: " << s.priority << " is out of range "
                             << "for " << s.policy << " (1 to 99)";
    }
    if (!realtime && s.priority != 0) {
        return Error(EINVAL) << "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a "
                             << "priority, not " << s.policy;
    }
    SchedAttr attr;
    attr.sched_policy = static_cast<uint32_t>(*policy);
    for (size_t i = 0; i < s.flags.size(); ++i) {
        auto flag = sched_flag_from_name(s.flags[i]);
        if (!flag) {
            return Error(EINVAL) << "process.scheduler.flags[" << i << "]: unknown flag \""
                                 << s.flags[i] << "\"";
        }
        attr.sched_flags |= *flag;
    }
    attr.sched_nice = s.nice;
    attr.sched_priority = static_cast<uint32_t>(s.priority);
    attr.sched_runtime = s.runtime;
    attr.sched_deadline = s.deadline;
    attr.sched_period = s.period;
    return attr;
}

int apply_scheduler(const SchedAttr& attr) {
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0) return -errno;
    return 0;
}

std::optional<int> ioprio_class_from_name(std::string_view name) {
    return lookup(kIoprioClasses, name);
}

Result<IoPrio> resolve_ioprio(const oci::IoPriority& p) {
    auto cls = ioprio_class_from_name(p.io_class);
    if (!cls) {
        return Error(EINVAL) << "process.ioPriority.class: unknown class \"" << p.io_class << "\"";
    }
    if (p.priority < 0 || p.priority > 7) {
        return Error(EINVAL) << "process.ioPriority.priority: " << p.priority
                             << " is out of range (0 to 7)";
    }
    return IoPrio{*cls, p.priority};
}

int apply_ioprio(int io_class, int priority) {
    if (sys::ioprio_set(kIoprioWhoProcess, 0, (io_class << kIoprioClassShift) | priority) < 0) {
        return -errno;
    }
    return 0;
}

Result<unsigned long> resolve_personality(const oci::Personality& p) {
    auto domain = lookup(kDomains, p.domain);
    if (!domain) {
        return Error(EINVAL) << "linux.personality.domain: unknown domain \"" << p.domain << "\"";
    }
    unsigned long persona = *domain;
    for (size_t i = 0; i < p.flags.size(); ++i) {
        auto flag = lookup(kPersonalityFlags, p.flags[i]);
        if (!flag) {
            return Error(EINVAL) << "linux.personality.flags[" << i << "]: unsupported flag \""
                                 << p.flags[i] << "\"";
        }
        persona |= *flag;
    }
    return persona;
}

int apply_personality(unsigned long persona) {
    if (::syscall(SYS_personality, persona) < 0) return -errno;
    return 0;
}

}  // namespace berth::runtime
