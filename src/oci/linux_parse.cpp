// The `linux` object: namespaces, id mappings, devices, seccomp and the rest of config-linux.md.
#include <algorithm>
#include <array>

#include "oci/parse_internal.h"

namespace berth::oci::detail {

namespace {

using json::Node;
using json::read;
using json::read_required;

constexpr std::array<std::string_view, 8> kNamespaceTypes = {
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};

constexpr std::array<std::string_view, 9> kSeccompActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

constexpr std::array<std::string_view, 7> kSeccompOps = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

constexpr std::array<std::string_view, 4> kSeccompFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr std::array<std::string_view, 8> kPropagations = {
    "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
};

// A seccomp filter inspects at most six syscall arguments.
constexpr unsigned kSeccompMaxArgs = 6;

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view v) {
    return std::find(set.begin(), set.end(), v) != set.end();
}

bool takes_errno(std::string_view action) {
    return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
}

Result<IdMapping> read_id_mapping(const Node& node) {
    BERTH_TRY(node.expect_object());
    IdMapping m;
    BERTH_TRY(read_required(node, "containerID", m.container_id));
    BERTH_TRY(read_required(node, "hostID", m.host_id));
    BERTH_TRY(read_required(node, "size", m.size));
    if (m.size == 0) return node.member("size")->error() << "must be greater than zero";
    // The kernel wants id + size below 2^32 on both sides (4294967295 is the invalid id).
    constexpr uint64_t kIdSpace = uint64_t{1} << 32;
    if (uint64_t{m.container_id} + m.size >= kIdSpace || uint64_t{m.host_id} + m.size >= kIdSpace) {
        return node.error() << "range overflows 32-bit ids";
    }
    return m;
}

Result<Namespace> read_namespace(const Node& node) {
    BERTH_TRY(node.expect_object());
    Namespace ns;
    Node type = BERTH_TRY(json::require(node, "type"));
    ns.type = BERTH_TRY(type.as_string());
    if (!one_of(kNamespaceTypes, ns.type)) {
        return type.error() << "unknown namespace type " << quote(ns.type);
    }
    if (auto path = node.member("path")) {
        ns.path = BERTH_TRY(path->as_string());
        if (!is_absolute(ns.path)) {
            return path->error() << "must be an absolute path, got " << quote(ns.path);
        }
    }
    return ns;
}

Result<Device> read_device(const Node& node) {
    BERTH_TRY(node.expect_object());
    Device dev;
    Node type = BERTH_TRY(json::require(node, "type"));
    dev.type = BERTH_TRY(type.as_string());
    if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p") {
        return type.error() << "device type must be \"c\", \"b\", \"u\" or \"p\", got "
                            << quote(dev.type);
    }
    Node path = BERTH_TRY(json::require(node, "path"));
    dev.path = BERTH_TRY(path.as_string());
    if (!is_absolute(dev.path)) {
        return path.error() << "must be an absolute path, got " << quote(dev.path);
    }
    // A fifo has no device number; every other type needs both.
    if (dev.type == "p") {
        BERTH_TRY(read(node, "major", dev.major));
        BERTH_TRY(read(node, "minor", dev.minor));
    } else {
        BERTH_TRY(read_required(node, "major", dev.major));
        BERTH_TRY(read_required(node, "minor", dev.minor));
    }
    BERTH_TRY(read(node, "fileMode", dev.file_mode));
    BERTH_TRY(read(node, "uid", dev.uid));
    BERTH_TRY(read(node, "gid", dev.gid));
    return dev;
}

Result<SeccompArg> read_seccomp_arg(const Node& node) {
    BERTH_TRY(node.expect_object());
    SeccompArg arg;
    BERTH_TRY(read_required(node, "index", arg.index));
    if (arg.index >= kSeccompMaxArgs) {
        return node.member("index")->error() << "must be between 0 and 5, got " << arg.index;
    }
    BERTH_TRY(read_required(node, "value", arg.value));
    BERTH_TRY(read(node, "valueTwo", arg.value_two));
    Node op = BERTH_TRY(json::require(node, "op"));
    arg.op = BERTH_TRY(op.as_string());
    if (!one_of(kSeccompOps, arg.op))
        return op.error() << "unknown seccomp operator " << quote(arg.op);
    return arg;
}

Result<std::string> read_action(const Node& obj, std::string_view key) {
    Node node = BERTH_TRY(json::require(obj, key));
    std::string action = BERTH_TRY(node.as_string());
    if (!one_of(kSeccompActions, action)) {
        return node.error() << "unknown seccomp action " << quote(action);
    }
    return action;
}

Result<SeccompSyscall> read_seccomp_syscall(const Node& node) {
    BERTH_TRY(node.expect_object());
    SeccompSyscall sc;
    Node names = BERTH_TRY(json::require(node, "names"));
    for (const Node& e : BERTH_TRY(names.elements())) {
        std::string name = BERTH_TRY(e.as_string());
        if (name.empty()) return e.error() << "empty syscall name";
        sc.names.push_back(std::move(name));
    }
    if (sc.names.empty()) return names.error() << "must list at least one syscall";
    sc.action = BERTH_TRY(read_action(node, "action"));
    BERTH_TRY(read(node, "errnoRet", sc.errno_ret));
    if (sc.errno_ret && !takes_errno(sc.action)) {
        return node.member("errnoRet")->error()
               << "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, action is " << sc.action;
    }
    BERTH_TRY(json::read_array(node, "args", sc.args, read_seccomp_arg));
    return sc;
}

Result<Seccomp> read_seccomp(const Node& node) {
    BERTH_TRY(node.expect_object());
    Seccomp sc;
    sc.default_action = BERTH_TRY(read_action(node, "defaultAction"));
    if (sc.default_action == "SCMP_ACT_NOTIFY") {
        // Every syscall of the container's init would wait on an agent it cannot reach yet.
        return node.member("defaultAction")->error()
               << "SCMP_ACT_NOTIFY cannot be the default action";
    }
    BERTH_TRY(read(node, "defaultErrnoRet", sc.default_errno_ret));
    if (sc.default_errno_ret && !takes_errno(sc.default_action)) {
        return node.member("defaultErrnoRet")->error()
               << "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, defaultAction is "
               << sc.default_action;
    }
    if (auto archs = node.member("architectures")) {
        for (const Node& e : BERTH_TRY(archs->elements())) {
            std::string arch = BERTH_TRY(e.as_string());
            // libseccomp resolves the name; only the family is checked here.
            if (arch.size() <= 10 || arch.substr(0, 10) != "SCMP_ARCH_") {
                return e.error() << "invalid architecture " << quote(arch)
                                 << " (expected SCMP_ARCH_*)";
            }
            sc.architectures.push_back(std::move(arch));
        }
    }
    if (auto flags = node.member("flags")) {
        for (const Node& e : BERTH_TRY(flags->elements())) {
            std::string flag = BERTH_TRY(e.as_string());
            if (!one_of(kSeccompFlags, flag))
                return e.error() << "unknown seccomp flag " << quote(flag);
            sc.flags.push_back(std::move(flag));
        }
    }
    BERTH_TRY(read(node, "listenerPath", sc.listener_path));
    BERTH_TRY(read(node, "listenerMetadata", sc.listener_metadata));
    if (!sc.listener_metadata.empty() && sc.listener_path.empty()) {
        return node.member("listenerMetadata")->error() << "set without listenerPath";
    }
    BERTH_TRY(json::read_array(node, "syscalls", sc.syscalls, read_seccomp_syscall));
    for (size_t i = 0; i < sc.syscalls.size(); i++) {
        if (sc.syscalls[i].action == "SCMP_ACT_NOTIFY" && sc.listener_path.empty()) {
            return Error(EINVAL) << node.path() << ".syscalls[" << i
                                 << "].action: SCMP_ACT_NOTIFY needs " << node.path()
                                 << ".listenerPath";
        }
    }
    return sc;
}

Result<Personality> read_personality(const Node& node) {
    BERTH_TRY(node.expect_object());
    Personality p;
    Node domain = BERTH_TRY(json::require(node, "domain"));
    p.domain = BERTH_TRY(domain.as_string());
    if (p.domain != "LINUX" && p.domain != "LINUX32") {
        return domain.error() << "personality domain must be LINUX or LINUX32, got "
                              << quote(p.domain);
    }
    if (auto flags = node.member("flags")) {
        // The spec defines no flag yet; refusing is better than silently ignoring one.
        for (const Node& e : BERTH_TRY(flags->elements())) {
            std::string flag = BERTH_TRY(e.as_string());
            return e.error() << "unsupported personality flag " << quote(flag);
        }
    }
    return p;
}

Result<void> read_time_offsets(const Node& node, std::map<std::string, TimeOffset>& out) {
    for (const auto& [clock, entry] : BERTH_TRY(node.entries())) {
        if (clock != "monotonic" && clock != "boottime") {
            return entry.error() << "unknown clock (expected \"monotonic\" or \"boottime\")";
        }
        BERTH_TRY(entry.expect_object());
        TimeOffset off;
        BERTH_TRY(read(entry, "secs", off.secs));
        BERTH_TRY(read(entry, "nanosecs", off.nanosecs));
        if (off.nanosecs >= 1'000'000'000) {
            return entry.member("nanosecs")->error()
                   << "must be less than 1000000000, got " << off.nanosecs;
        }
        out[clock] = off;
    }
    return {};
}

Result<std::vector<std::string>> read_absolute_paths(const Node& node) {
    std::vector<std::string> out;
    for (const Node& e : BERTH_TRY(node.elements())) {
        std::string path = BERTH_TRY(e.as_string());
        if (!is_absolute(path)) return e.error() << "must be an absolute path, got " << quote(path);
        out.push_back(std::move(path));
    }
    return out;
}

// Fields the runtime refuses (it cannot honour them); parsed only far enough to know they are set.
Result<bool> read_presence(const Node& obj, std::string_view key) {
    auto m = obj.member(key);
    if (!m) return false;
    BERTH_TRY(m->expect_object());
    return true;
}

}  // namespace

Result<std::vector<IdMapping>> read_id_mappings(const Node& node) {
    std::vector<IdMapping> out;
    for (const Node& e : BERTH_TRY(node.elements())) out.push_back(BERTH_TRY(read_id_mapping(e)));
    return out;
}

Result<Linux> read_linux(const Node& node) {
    BERTH_TRY(node.expect_object());
    Linux lx;
    if (auto m = node.member("uidMappings")) lx.uid_mappings = BERTH_TRY(read_id_mappings(*m));
    if (auto m = node.member("gidMappings")) lx.gid_mappings = BERTH_TRY(read_id_mappings(*m));
    BERTH_TRY(read(node, "sysctl", lx.sysctl));
    BERTH_TRY(json::read_with(node, "resources", lx.resources, read_resources));
    BERTH_TRY(read(node, "cgroupsPath", lx.cgroups_path));

    BERTH_TRY(json::read_array(node, "namespaces", lx.namespaces, read_namespace));
    for (size_t i = 0; i < lx.namespaces.size(); i++) {
        for (size_t j = 0; j < i; j++) {
            if (lx.namespaces[i].type == lx.namespaces[j].type) {
                return Error(EINVAL)
                       << node.path() << ".namespaces[" << i << "].type: duplicate "
                       << quote(lx.namespaces[i].type) << " namespace (also at [" << j << "])";
            }
        }
    }

    BERTH_TRY(json::read_array(node, "devices", lx.devices, read_device));
    BERTH_TRY(json::read_with(node, "seccomp", lx.seccomp, read_seccomp));
    if (auto prop = node.member("rootfsPropagation")) {
        lx.rootfs_propagation = BERTH_TRY(prop->as_string());
        if (!one_of(kPropagations, lx.rootfs_propagation)) {
            return prop->error() << "unknown propagation " << quote(lx.rootfs_propagation);
        }
    }
    if (auto m = node.member("maskedPaths")) lx.masked_paths = BERTH_TRY(read_absolute_paths(*m));
    if (auto m = node.member("readonlyPaths")) {
        lx.readonly_paths = BERTH_TRY(read_absolute_paths(*m));
    }
    BERTH_TRY(read(node, "mountLabel", lx.mount_label));
    BERTH_TRY(json::read_with(node, "personality", lx.personality, read_personality));
    if (auto m = node.member("timeOffsets")) BERTH_TRY(read_time_offsets(*m, lx.time_offsets));
    lx.has_intel_rdt = BERTH_TRY(read_presence(node, "intelRdt"));
    lx.has_memory_policy = BERTH_TRY(read_presence(node, "memoryPolicy"));
    lx.has_net_devices = BERTH_TRY(read_presence(node, "netDevices"));
    return lx;
}

}  // namespace berth::oci::detail
