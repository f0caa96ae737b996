// linux.seccomp: compiled to a classic-BPF program in the parent with libseccomp, installed in
// the container init with one seccomp(2) call.
//
// Where the init installs it: without process.noNewPrivileges, seccomp(SECCOMP_SET_MODE_FILTER)
// needs CAP_SYS_ADMIN in the init's user namespace, so the filter must go in before the
// capabilities are dropped (before setuid and apply_caps). With noNewPrivileges it goes in as
// late as possible, right before execve, after prctl(PR_SET_NO_NEW_PRIVS) — so that the
// runtime's own remaining syscalls are not subject to it.
//
// SCMP_ACT_NOTIFY: installing returns a listener fd (install_seccomp's listener_fd). Sending it
// with the container state to linux.seccomp.listenerPath is the runtime core's job; the init
// must only use write() between installing the filter and handing the fd over, which is why
// NOTIFY on write is rejected here (as runc does).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

struct SeccompProgram {
    std::vector<struct sock_filter> filter;  // what seccomp_export_bpf produced
    unsigned flags = 0;                      // SECCOMP_FILTER_FLAG_* for seccomp(2)
    bool has_notify = false;                 // some rule uses SCMP_ACT_NOTIFY: NEW_LISTENER set
    // Syscall names libseccomp does not know, skipped (a profile may list newer syscalls).
    std::vector<std::string> skipped_syscalls;
};

// Parent side. Errors name the field: `linux.seccomp.syscalls[2].action: unknown action "X"`.
Result<SeccompProgram> compile_seccomp(const oci::Seccomp& s);

// Child side: no allocation, one syscall. Returns 0 or -errno. *listener_fd (if given) gets the
// notify listener when p.has_notify, else -1. The caller owns the listener fd.
int install_seccomp(const SeccompProgram& p, int* listener_fd);

// Name tables (also what `features` reports).
std::optional<uint32_t> seccomp_action_from_name(std::string_view name);  // without errno data
std::optional<uint32_t> seccomp_arch_from_name(std::string_view name);    // SCMP_ARCH_* token
std::optional<unsigned> seccomp_flag_from_name(std::string_view name);
std::optional<int> seccomp_op_from_name(std::string_view name);  // enum scmp_compare
std::vector<std::string> seccomp_action_names();
std::vector<std::string> seccomp_arch_names();  // only those this libseccomp supports
std::vector<std::string> seccomp_flag_names();
std::vector<std::string> seccomp_op_names();

}  // namespace berth::runtime
