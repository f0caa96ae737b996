// process.capabilities: names resolved to bit sets in the parent, applied in the container init
// with raw prctl/capset (no libcap).
//
// Order in the init (runc's), relative to the credential change:
//   1. drop_bounding(caps)       needs CAP_SETPCAP, so before anything drops it
//   2. set_keepcaps(true)        so setuid away from 0 keeps the permitted set
//   3. setgroups, setgid, setuid (setresgid/setresuid)
//   4. apply_caps(caps)          capset effective/permitted/inheritable, then the ambient set
//   5. set_keepcaps(false)       (runc clears it just before capset; either order works)
// A setuid that leaves uid 0 (real, effective and saved all nonzero) clears the permitted,
// effective and ambient sets unless keepcaps is set; even with keepcaps the effective set and
// the ambient set are cleared (capabilities(7)). So capset must come after setuid to raise the
// effective set again from the kept permitted set, and the ambient raise after that (a cap can
// only be ambient when it is both permitted and inheritable).
// Without noNewPrivileges the seccomp filter must be installed before step 3, while the
// process still has CAP_SYS_ADMIN in its effective set (see seccomp.h). When process.capabilities
// is absent, none of this is done and the process keeps the capabilities it has.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/caps.h"
#include "oci/spec.h"

namespace berth::runtime {

// The capability name table is oci's (the engine writes the names too).
using oci::cap_from_name;
using oci::cap_name;
using oci::kLastKnownCap;

struct CapSets {
    uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
    // The running kernel's /proc/sys/kernel/cap_last_cap; drop_bounding walks 0..last_cap.
    int last_cap = kLastKnownCap;
};

// Parent side. Unknown names are errors naming the field
// (`process.capabilities.bounding[3]: unknown capability "CAP_FOO"`); known names above the
// kernel's last cap are dropped with a warning, and so are ambient caps that are not both
// permitted and inheritable (the kernel would refuse to raise them), as runc does.
Result<CapSets> resolve_caps(const oci::Capabilities& c);
// Same against a given last cap (tests; callers that already read it).
Result<CapSets> resolve_caps(const oci::Capabilities& c, int last_cap);
// /proc/sys/kernel/cap_last_cap.
Result<int> read_last_cap();

// Child side: no allocation, each returns 0 or -errno.
int drop_bounding(const CapSets& caps);
int set_keepcaps(bool keep);
int apply_caps(const CapSets& caps);
int set_no_new_privs();

// "CAP_CHOWN,CAP_KILL" for a bit set (unknown bits as their numbers).
std::string caps_to_names(uint64_t set);

}  // namespace berth::runtime
