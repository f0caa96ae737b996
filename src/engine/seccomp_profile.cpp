#include "engine/seccomp_profile.h"

#include <errno.h>
#include <sys/utsname.h>

#include <algorithm>

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// Syscalls docker's default profile leaves out, with the capability that brings each back
// (empty: never). Unknown names on this architecture are skipped by the runtime.
struct Denied {
    const char* cap;
    std::vector<const char*> names;
};

const std::vector<Denied>& denied() {
    static const std::vector<Denied> list = {
        {"",
         {"create_module", "get_kernel_syms", "query_module", "nfsservctl", "uselib", "ustat",
          "sysfs", "_sysctl", "vm86", "vm86old", "lookup_dcookie", "kexec_file_load", "kexec_load",
          "add_key", "request_key", "keyctl", "userfaultfd"}},
        {"CAP_SYS_ADMIN",
         {"mount",
          "umount",
          "umount2",
          "pivot_root",
          "setns",
          "unshare",
          "swapon",
          "swapoff",
          "quotactl",
          "name_to_handle_at",
          "open_by_handle_at",
          "bpf",
          "perf_event_open",
          "fanotify_init",
          "fsopen",
          "fsconfig",
          "fsmount",
          "fspick",
          "move_mount",
          "open_tree",
          "mount_setattr",
          "get_mempolicy",
          "set_mempolicy",
          "mbind",
          "move_pages"}},
        {"CAP_SYS_BOOT", {"reboot"}},
        {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
        {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
        {"CAP_SYS_TIME",
         {"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
          "clock_adjtime64", "adjtimex"}},
        {"CAP_SYS_PACCT", {"acct"}},
        {"CAP_SYS_PTRACE", {"kcmp", "process_vm_readv", "process_vm_writev", "ptrace"}},
        {"CAP_SYS_NICE", {"set_mempolicy_home_node"}},
    };
    return list;
}

// clone's namespace flags, refused without CAP_SYS_ADMIN as docker does.
constexpr uint64_t kNamespaceFlags[] = {
    0x10000000 /*USER*/, 0x20000 /*NS*/,     0x4000000 /*UTS*/, 0x8000000 /*IPC*/,
    0x20000000 /*PID*/,  0x40000000 /*NET*/, 0x2000000 /*CGROUP*/};

std::string native_arch() {
    struct utsname u;
    ::uname(&u);
    std::string m = u.machine;
    if (m == "x86_64") return "SCMP_ARCH_X86_64";
    if (m == "aarch64") return "SCMP_ARCH_AARCH64";
    if (m == "ppc64le") return "SCMP_ARCH_PPC64LE";
    if (m == "s390x") return "SCMP_ARCH_S390X";
    if (m == "riscv64") return "SCMP_ARCH_RISCV64";
    return "";
}

std::vector<std::string> strings(const OJson& j) {
    std::vector<std::string> out;
    if (j.is_string()) out.push_back(j.get<std::string>());
    if (j.is_array()) {
        for (const auto& x : j) {
            if (x.is_string()) out.push_back(x.get<std::string>());
        }
    }
    return out;
}

// Whether a rule applies under docker's includes (every cap held, our arch listed) or
// excludes (no cap held, our arch not listed).
bool condition_met(const OJson& cond, const std::vector<std::string>& caps, const std::string& arch,
                   bool include) {
    if (!cond.is_object()) return true;  // no condition: the rule applies
    bool any_cap = false, all_caps = true;
    for (const auto& c : strings(cond.value("caps", OJson()))) {
        bool held = has(caps, c);
        any_cap |= held;
        all_caps &= held;
    }
    auto arches = strings(cond.value("arches", OJson()));
    bool arch_listed = false;
    for (const auto& a : arches) {
        // docker names arches as Go does (amd64, arm64) in conditions.
        if (a == arch || (a == "amd64" && arch == "SCMP_ARCH_X86_64") ||
            (a == "arm64" && arch == "SCMP_ARCH_AARCH64")) {
            arch_listed = true;
        }
    }
    if (include) {
        if (cond.contains("caps") && !all_caps) return false;
        if (!arches.empty() && !arch_listed) return false;
        return true;
    }
    // excludes: the rule is dropped when any listed cap is held or our arch is listed.
    return !(any_cap || arch_listed);
}

}  // namespace

OJson default_seccomp(const std::vector<std::string>& caps) {
    OJson calls = OJson::array();
    for (const auto& d : denied()) {
        if (*d.cap && has(caps, d.cap)) continue;
        OJson names = OJson::array();
        for (const char* n : d.names) names.push_back(n);
        calls.push_back({{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EPERM}});
    }
    if (!has(caps, "CAP_SYS_ADMIN")) {
        for (uint64_t flag : kNamespaceFlags) {
            calls.push_back({{"names", {"clone"}},
                             {"action", "SCMP_ACT_ERRNO"},
                             {"errnoRet", EPERM},
                             {"args",
                              {{{"index", 0},
                                {"value", flag},
                                {"valueTwo", flag},
                                {"op", "SCMP_CMP_MASKED_EQ"}}}}});
        }
        // clone3's flags live in memory a filter cannot read: ENOSYS makes libc use clone.
        calls.push_back(
            {{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}});
    }
    return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", calls}};
}

Result<OJson> seccomp_from_profile(std::string_view text, const std::vector<std::string>& caps,
                                   const std::string& what) {
    OJson in = OJson::parse(text, nullptr, false);
    if (!in.is_object()) return Error(EINVAL) << what << ": not a JSON object";
    if (!in.contains("defaultAction") || !in["defaultAction"].is_string()) {
        return Error(EINVAL) << what << ": defaultAction is missing";
    }
    std::string arch = native_arch();
    OJson out = {{"defaultAction", in["defaultAction"]}};
    if (in.contains("defaultErrnoRet")) out["defaultErrnoRet"] = in["defaultErrnoRet"];
    std::vector<std::string> arches = strings(in.value("architectures", OJson()));
    // docker's archMap: our architecture and its sub-architectures (x86 and x32 on x86_64).
    if (in.contains("archMap") && in["archMap"].is_array()) {
        for (const auto& m : in["archMap"]) {
            if (!m.is_object() || m.value("architecture", "") != arch) continue;
            arches.push_back(arch);
            for (const auto& s : strings(m.value("subArchitectures", OJson()))) {
                arches.push_back(s);
            }
        }
    }
    if (!arches.empty()) out["architectures"] = arches;
    for (const char* k : {"flags", "listenerPath", "listenerMetadata"}) {
        if (in.contains(k)) out[k] = in[k];
    }
    OJson calls = OJson::array();
    if (in.contains("syscalls")) {
        if (!in["syscalls"].is_array()) return Error(EINVAL) << what << ": syscalls: not a list";
        size_t i = 0;
        for (const auto& s : in["syscalls"]) {
            std::string field = what + ": syscalls[" + std::to_string(i++) + "]";
            if (!s.is_object()) return Error(EINVAL) << field << ": not an object";
            if (!condition_met(s.value("includes", OJson()), caps, arch, true) ||
                !condition_met(s.value("excludes", OJson()), caps, arch, false)) {
                continue;
            }
            std::vector<std::string> names = strings(s.value("names", OJson()));
            if (s.contains("name") && s["name"].is_string()) names.push_back(s["name"]);
            if (names.empty()) return Error(EINVAL) << field << ": no names";
            if (!s.contains("action") || !s["action"].is_string()) {
                return Error(EINVAL) << field << ": action is missing";
            }
            OJson call = {{"names", names}, {"action", s["action"]}};
            if (s.contains("errnoRet")) call["errnoRet"] = s["errnoRet"];
            if (s.contains("args") && !s["args"].is_null()) call["args"] = s["args"];
            calls.push_back(call);
        }
    }
    out["syscalls"] = calls;
    return out;
}

}  // namespace berth::engine
