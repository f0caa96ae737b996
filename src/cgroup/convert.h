// The v1 values of the OCI spec turned into cgroup v2 values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace berth::cgroup {

// cpu.shares [2, 262144] to cpu.weight [1, 10000] by the log-quadratic mapping runc 1.3.2 and
// crun 1.23 adopted: with l = log2(shares), weight = ceil(10^((l^2 + 125 l) / 612 - 7/34)).
// It keeps the defaults aligned (1024 -> 100) and both ends (2 -> 1, 262144 -> 10000).
// 0 means unset and stays 0; values outside the range are clamped.
uint64_t cpu_shares_to_weight(uint64_t shares);

// blkio.weight [10, 1000] to io.weight [1, 10000], linearly; 0 stays 0 (unset).
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// memory.swap.max from the OCI memory+swap value: swap - limit, "max" for -1. nullopt when
// nothing is to be written. Errors name linux.resources.memory.swap.
Result<std::optional<std::string>> swap_max_value(std::optional<int64_t> limit,
                                                  std::optional<int64_t> swap);

}  // namespace berth::cgroup
