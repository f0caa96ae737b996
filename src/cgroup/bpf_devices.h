// The cgroup v2 device controller: linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE
// program attached to the container's cgroup2 directory, as runc and crun do. The rules are
// first played on the v1 controller's semantics (security/device_cgroup.c), so a list means the
// same on v2 as devices.allow/deny writes mean on v1; the program then checks the resulting
// exceptions.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::cgroup::bpf {

// Access bits, as the kernel passes them in bpf_cgroup_dev_ctx.access_type >> 16.
inline constexpr uint32_t kAccessMknod = BPF_DEVCG_ACC_MKNOD;
inline constexpr uint32_t kAccessRead = BPF_DEVCG_ACC_READ;
inline constexpr uint32_t kAccessWrite = BPF_DEVCG_ACC_WRITE;
inline constexpr uint32_t kAccessAll = kAccessMknod | kAccessRead | kAccessWrite;

struct DeviceException {
    char type = 'c';                       // 'b' or 'c'
    std::optional<uint32_t> major, minor;  // nullopt: any
    uint32_t access = 0;                   // kAccess* bits
    bool operator==(const DeviceException&) const = default;
};

// What a v1 devices cgroup holds: a default and the exceptions to it. With default_allow the
// exceptions are denials (a request touching any of their access bits is refused); without it
// they are allowances (one exception must cover the whole request).
struct DeviceState {
    bool default_allow = false;
    std::vector<DeviceException> exceptions;
    bool operator==(const DeviceState&) const = default;
};

// Plays the rules in order from deny-all (what the v1 manager writes first), as the kernel
// plays devices.allow/deny writes: type "a" (or empty) resets to allow-all or deny-all; a rule
// against the default adds an exception, merging access into an identical one; a rule in the
// default's direction takes access away from the identical exception only (the kernel ignores
// a request to punch a hole in a wider wildcard exception, and so does this). Missing or
// negative numbers are wildcards; empty access is "rwm". Errors name linux.resources.devices[i].
Result<DeviceState> emulate_v1(const std::vector<oci::DeviceCgroup>& rules);

// Whether the state lets a request through, as the kernel's v1 check decides it (for tests
// and diagnostics; the program below decides the same).
bool allows(const DeviceState& s, char type, uint32_t major, uint32_t minor, uint32_t access);

// The program: loads type, access, major and minor from the context, tests each exception in
// turn and returns its verdict on the first match, the default otherwise.
std::vector<struct bpf_insn> device_program(const DeviceState& s);

// Loads prog, attaches it to the cgroup2 directory with BPF_F_ALLOW_MULTI, then detaches what
// was attached there before, so there is no moment without a filter. A directory whose
// programs were attached without ALLOW_MULTI gets its program replaced in place.
Result<void> attach_device_program(const std::string& cgroup_dir,
                                   const std::vector<struct bpf_insn>& prog);

// IDs of the device programs attached directly to the directory.
Result<std::vector<uint32_t>> attached_device_programs(const std::string& cgroup_dir);

// emulate_v1 + device_program + attach_device_program.
Result<void> apply_device_rules(const std::string& cgroup_dir,
                                const std::vector<oci::DeviceCgroup>& rules);

}  // namespace berth::cgroup::bpf
