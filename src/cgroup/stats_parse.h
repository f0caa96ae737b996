// Parsers for the control files stats() reads. Pure functions over text so tests can feed them
// what a kernel would print.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/stats.h"

namespace berth::cgroup {

// "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat, oom_control).
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);
// Space-separated numbers (cpuacct.usage_percpu).
std::vector<uint64_t> parse_number_list(std::string_view text);
// v1 blkio.throttle.io_service_bytes / io_serviced: "MAJ:MIN Op VALUE" lines, and a last
// "Total VALUE" line that is dropped.
std::vector<BlkioEntry> parse_blkio_v1(std::string_view text);
// v2 io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..", mapped onto
// v1-style Read/Write/Discard/Total entries.
BlkioStats parse_io_stat(std::string_view text);
// usage - inactive_file, floored at 0: what kubelet evicts on.
uint64_t working_set(uint64_t usage, uint64_t inactive_file);
// cpuacct.stat ticks (USER_HZ) to nanoseconds.
uint64_t ticks_to_ns(uint64_t ticks, long user_hz);

}  // namespace berth::cgroup
