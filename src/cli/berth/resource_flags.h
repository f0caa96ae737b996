// docker's resource flags on `run`/`create` and their updatable subset on `update`.
#pragma once

#include <CLI/CLI.hpp>

#include "engine/resources.h"

namespace berth::cli {

// --cpus, --cpu-shares, --cpu-period, --cpu-quota, --cpuset-cpus, --cpuset-mems, -m/--memory,
// --memory-swap, --memory-reservation, --pids-limit and --blkio-weight; with `all` also
// --oom-kill-disable, --oom-score-adj, --blkio-weight-device, the --device-*-bps/-iops
// throttles, --shm-size, --ulimit and --sysctl (the ones `update` cannot change).
void add_resource_flags(CLI::App* c, engine::ResourceFlags& f, bool all);

}  // namespace berth::cli
