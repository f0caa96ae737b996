// A process spec resolved in the parent (names to numbers, seccomp compiled), and the steps
// that apply it in the child, shared by the container init and `exec`. Child-side steps run
// in a fork of a single-threaded process and report failure as an Error for the channel.
#pragma once

#include <sched.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "runtime/caps.h"
#include "runtime/process_attrs.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

struct ProcessPlan {
    oci::Process process;
    std::optional<CapSets> caps;
    std::optional<SeccompProgram> seccomp;
    std::vector<ResolvedRlimit> rlimits;
    std::optional<SchedAttr> sched;
    std::optional<IoPrio> ioprio;
    std::optional<unsigned long> personality;
    std::vector<std::string> env;  // with HOME added when missing, as runc does
    // process.execCPUAffinity: before joining the cgroup, and after it.
    std::optional<cpu_set_t> affinity_initial, affinity_final;
};

// "0-3,7" -> a cpu set; errors name `field`.
Result<cpu_set_t> parse_cpu_list(const std::string& list, const std::string& field);
// Child side, first thing: execCPUAffinity.initial.
Result<void> apply_initial_affinity(const ProcessPlan& plan);

Result<ProcessPlan> plan_process(const oci::Process& p, const std::optional<oci::Seccomp>& seccomp,
                                 const std::optional<oci::Personality>& personality);

// Child side, before pivot_root or setns is irrelevant: attributes that need privilege.
Result<void> apply_process_attrs(const ProcessPlan& plan);
// Child side, inside the container's root: finds argv[0] through the process's own PATH.
Result<std::string> find_executable(const ProcessPlan& plan);
// Child side, last: seccomp, capabilities, user and groups, no_new_privs, umask, cwd.
Result<void> apply_identity(const ProcessPlan& plan);
// Child side: closes every fd from 3 + preserve_fds except `keep` (the runtime's own, all
// close-on-exec), so no descriptor of the caller's is even open when cwd is entered.
Result<void> close_other_fds(unsigned preserve_fds, std::vector<int> keep);
// execve with the plan's args and env and an empty signal mask. Returns only on failure,
// with the error for the caller to report where its parent will read it.
Error exec_process(const ProcessPlan& plan, const std::string& path);

}  // namespace berth::runtime
