// docker's resource flags (--cpus, --memory, --memory-swap, --cpuset-cpus, --blkio-weight,
// --device-read-bps, --shm-size, --ulimit, --sysctl...) checked as docker checks them and turned
// into config.json: linux.resources, process.rlimits, process.oomScoreAdj, linux.sysctl and
// the /dev/shm mount's size. Also what `berth update` changes and `inspect` shows of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace berth::engine {

// The flags as typed; empty or unset: not given. Errors name the flag.
struct ResourceFlags {
    std::string cpus;    // --cpus 1.5
    std::string memory;  // --memory 512m
    std::optional<int64_t> pids_limit;
    std::string cpu_shares, cpu_period, cpu_quota;  // --cpu-shares 512, --cpu-period 100000
    std::string cpuset_cpus, cpuset_mems;           // 0-1,3
    std::string memory_swap;                        // memory+swap, -1: unlimited
    std::string memory_reservation;
    bool oom_kill_disable = false;
    std::optional<int> oom_score_adj;
    std::string blkio_weight;                                      // 10-1000
    std::vector<std::string> blkio_weight_device;                  // DEVICE:WEIGHT
    std::vector<std::string> device_read_bps, device_write_bps;    // DEVICE:RATE (1mb)
    std::vector<std::string> device_read_iops, device_write_iops;  // DEVICE:N
    std::string shm_size;
    std::vector<std::string> ulimits;  // NAME=SOFT[:HARD]
    std::vector<std::string> sysctls;  // KEY=VALUE
};

// Writes what the flags ask into a config.json being built: the linux.resources fields
// (memory, cpu, pids, blockIO, merged into what is there), process.rlimits (replacing the
// defaults of the same type), process.oomScoreAdj, linux.sysctl and the default /dev/shm
// mount's size. own_netns: the container has a network namespace of its own (net.* sysctls).
// EINVAL naming the flag for anything docker would refuse.
Result<void> apply_resource_flags(const ResourceFlags& flags, bool own_netns,
                                  nlohmann::ordered_json& spec);

// `berth update`: the linux.resources fields the flags change (what the runtime's update
// takes) and the container's whole linux.resources after the change, checked against the
// current ones (docker's rules: a memory limit above the set memory+swap needs
// --memory-swap too). Only --cpus, --cpu-*, --cpuset-*, --memory*, --pids-limit and
// --blkio-weight can be updated; EINVAL when nothing was given.
struct ResourceUpdate {
    nlohmann::ordered_json changed;
    nlohmann::ordered_json merged;
};
Result<ResourceUpdate> update_resources(const ResourceFlags& flags,
                                        const nlohmann::ordered_json& current);

// docker's HostConfig resource fields (Memory, MemorySwap, NanoCpus, CpuShares, CpusetCpus,
// PidsLimit, BlkioWeight, Ulimits, Sysctls, ShmSize, OomScoreAdj...) from a stored config.json.
nlohmann::json host_config_resources(const std::string& spec_text);

// --cpus: a decimal number of CPUs, at most the host's count; the CFS quota per 100 ms.
Result<int64_t> cpus_to_quota(const std::string& text);

}  // namespace berth::engine
