#include "cgroup/convert.h"

#include <cmath>

namespace berth::cgroup {

uint64_t cpu_shares_to_weight(uint64_t shares) {
    if (shares == 0) return 0;
    if (shares <= 2) return 1;
    if (shares >= 262144) return 10000;
    double l = std::log2(static_cast<double>(shares));
    double w = std::pow(10.0, (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0);
    // Powers of two land on integers (1024 -> 100); don't let a last-bit error ceil them up.
    double nearest = std::round(w);
    if (std::fabs(w - nearest) < 1e-9) return static_cast<uint64_t>(nearest);
    return static_cast<uint64_t>(std::ceil(w));
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    if (weight == 0) return 0;
    if (weight < 10) weight = 10;
    if (weight > 1000) weight = 1000;
    return 1 + (weight - 10) * 9999 / 990;
}

Result<std::optional<std::string>> swap_max_value(std::optional<int64_t> limit,
                                                  std::optional<int64_t> swap) {
    int64_t mem = limit.value_or(0);
    int64_t sw = swap.value_or(0);
    // As on v1: an unlimited memory with no swap given makes swap unlimited too.
    if (mem == -1 && sw == 0) return std::optional<std::string>("max");
    if (sw == 0) return std::optional<std::string>();  // unset
    if (sw == -1) return std::optional<std::string>("max");
    if (sw < -1) return Error(EINVAL) << "linux.resources.memory.swap: invalid value " << sw;
    if (mem == 0 || mem == -1) {
        return Error(EINVAL)
               << "linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2";
    }
    if (sw < mem) {
        return Error(EINVAL) << "linux.resources.memory.swap: memory+swap " << sw
                             << " is below the memory limit " << mem;
    }
    return std::optional<std::string>(std::to_string(sw - mem));
}

}  // namespace berth::cgroup
