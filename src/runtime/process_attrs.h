// Per-process kernel attributes from the spec — rlimits, scheduler, I/O priority, personality —
// resolved and validated in the parent (errors name the field), applied in the container init
// with one plain syscall each (no allocation; 0 or -errno).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// --- rlimits ---

struct ResolvedRlimit {
    int resource = 0;  // RLIMIT_*
    uint64_t soft = 0, hard = 0;
};

std::optional<int> rlimit_from_name(std::string_view name);
const char* rlimit_name(int resource);  // nullptr when unknown
// Unknown or duplicate types and soft > hard are errors:
// `process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"`.
Result<std::vector<ResolvedRlimit>> resolve_rlimits(const std::vector<oci::Rlimit>& rlimits);
// setrlimit for each; stops at the first failure.
int apply_rlimits(const ResolvedRlimit* rlimits, size_t count);

// --- scheduler (sched_setattr) ---

// struct sched_attr as the kernel defines it (SCHED_ATTR_SIZE_VER1); glibc 2.36 has none.
struct SchedAttr {
    uint32_t size = sizeof(SchedAttr);
    uint32_t sched_policy = 0;
    uint64_t sched_flags = 0;
    int32_t sched_nice = 0;
    uint32_t sched_priority = 0;
    uint64_t sched_runtime = 0;
    uint64_t sched_deadline = 0;
    uint64_t sched_period = 0;
    uint32_t sched_util_min = 0;
    uint32_t sched_util_max = 0;
};
static_assert(sizeof(SchedAttr) == 56);

std::optional<int> sched_policy_from_name(std::string_view name);     // SCHED_*
std::optional<uint64_t> sched_flag_from_name(std::string_view name);  // SCHED_FLAG_*
// Errors name the field: `process.scheduler.policy: unknown policy "X"`.
Result<SchedAttr> resolve_scheduler(const oci::Scheduler& s);
int apply_scheduler(const SchedAttr& attr);  // sched_setattr(0, attr, 0)

// --- I/O priority ---

struct IoPrio {
    int io_class = 0;  // IOPRIO_CLASS_RT=1, BE=2, IDLE=3
    int priority = 0;  // 0 (highest) to 7
};

std::optional<int> ioprio_class_from_name(std::string_view name);  // IOPRIO_CLASS_*
Result<IoPrio> resolve_ioprio(const oci::IoPriority& p);
int apply_ioprio(int io_class, int priority);  // ioprio_set(IOPRIO_WHO_PROCESS, self)

// --- personality ---

// Domain LINUX/LINUX32 to PER_LINUX/PER_LINUX32. The spec defines no flags yet; as an
// extension the harmless kernel flags ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT and UNAME26 are
// accepted, anything else is an error (READ_IMPLIES_EXEC, MMAP_PAGE_ZERO ... weaken the
// container).
Result<unsigned long> resolve_personality(const oci::Personality& p);
int apply_personality(unsigned long persona);

}  // namespace berth::runtime
