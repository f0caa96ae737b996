#include "cli/berth/resource_flags.h"

namespace berth::cli {

void add_resource_flags(CLI::App* c, engine::ResourceFlags& f, bool all) {
    c->add_option("--cpus", f.cpus, "CPU quota in CPUs (1.5)");
    c->add_option("--cpu-shares,-c", f.cpu_shares, "CPU shares (relative weight, 1024 default)");
    c->add_option("--cpu-period", f.cpu_period, "CFS period in µs (1000-1000000)");
    c->add_option("--cpu-quota", f.cpu_quota, "CFS quota in µs per period");
    c->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs to run on (0-3, 0,1)");
    c->add_option("--cpuset-mems", f.cpuset_mems, "memory nodes to allocate from (0-3, 0,1)");
    c->add_option("-m,--memory", f.memory, "memory limit (512m, 1g)");
    c->add_option("--memory-swap", f.memory_swap,
                  "memory plus swap limit (-1: unlimited swap; default: twice --memory)");
    c->add_option("--memory-reservation", f.memory_reservation, "memory soft limit");
    c->add_option("--pids-limit", f.pids_limit, "maximum number of processes (-1: unlimited)");
    c->add_option("--blkio-weight", f.blkio_weight, "block IO weight (10-1000)");
    if (!all) return;
    c->add_flag("--oom-kill-disable", f.oom_kill_disable, "disable the OOM killer");
    c->add_option("--oom-score-adj", f.oom_score_adj, "the OOM score adjustment (-1000-1000)");
    c->add_option("--blkio-weight-device", f.blkio_weight_device, "DEVICE:WEIGHT")
        ->allow_extra_args(false);
    c->add_option("--device-read-bps", f.device_read_bps, "read rate limit, DEVICE:RATE (1mb)")
        ->allow_extra_args(false);
    c->add_option("--device-write-bps", f.device_write_bps, "write rate limit, DEVICE:RATE")
        ->allow_extra_args(false);
    c->add_option("--device-read-iops", f.device_read_iops, "read IO/s limit, DEVICE:N")
        ->allow_extra_args(false);
    c->add_option("--device-write-iops", f.device_write_iops, "write IO/s limit, DEVICE:N")
        ->allow_extra_args(false);
    c->add_option("--shm-size", f.shm_size, "size of /dev/shm (64m default)");
    c->add_option("--ulimit", f.ulimits, "NAME=SOFT[:HARD] (nofile=1024:2048)")
        ->allow_extra_args(false);
    c->add_option("--sysctl", f.sysctls, "a namespaced sysctl KEY=VALUE")->allow_extra_args(false);
}

}  // namespace berth::cli
