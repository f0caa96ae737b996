// Everything the container init needs, resolved by the parent before clone so that the child
// only applies values: namespaces opened, names resolved, seccomp compiled, mounts planned.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/spec.h"
#include "runtime/channel.h"
#include "runtime/mounts.h"
#include "runtime/namespaces.h"
#include "runtime/process_setup.h"

namespace berth::runtime {

struct InitPlan {
    std::string id;
    oci::Spec spec;
    std::string bundle;
    std::string rootfs;
    NamespacePlan ns;
    ProcessPlan process;
    MountContext mounts;
    std::vector<oci::Device> devices;   // defaults merged with the spec's
    bool make_default_devices = false;  // /dev is a fresh mount, not the host's
    unsigned long root_propagation = 0;
    bool no_pivot = false;
    bool no_new_keyring = false;
    unsigned preserve_fds = 0;
    bool create_hooks = false;  // prestart, createRuntime or createContainer present
    bool needs_intermediate = false;
    // Rootless: the parent (or newuidmap) writes our id maps through /proc/PID, which an
    // unprivileged caller may only do while we are dumpable; we turn that off after Go.
    bool dumpable_until_go = false;

    // Filled in by the parent right before clone.
    int fifo_fd = -1;
    int result_fd = -1;  // start.fifo: an error text for `start`, or EOF once execve ran
    int console_fd = -1;
};

// Builds the plan; errors name the config field. Nothing is created on the host.
Result<InitPlan> plan_init(oci::Spec spec, const std::string& bundle, bool no_pivot,
                           bool no_new_keyring, unsigned preserve_fds);

// The child's whole life: never returns. Reports failure on the channel and exits.
[[noreturn]] void run_container_init(InitPlan& plan, Channel& chan);

}  // namespace berth::runtime
