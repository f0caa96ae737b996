// Rules that tie fields together: what needs which namespace. Runs after the whole document is
// read; single-field checks (enums, ranges, absolute paths) are done by the readers.
#include "base/strings.h"
#include "oci/parse_internal.h"

namespace berth::oci::detail {

namespace {

enum class SysctlScope { kIpc, kNetwork, kUts, kHost, kInvalid };

// Splits "net.ipv4.ip_forward" or "net/ipv4/conf/eth0.100/rp_filter" (the slash form lets a
// component hold a dot) and returns the dotted name, or nullopt when a component is empty or a
// "."/".." that would step outside /proc/sys.
std::optional<std::string> normalize_sysctl(std::string_view key) {
    char sep = key.find('/') != std::string_view::npos ? '/' : '.';
    std::string dotted;
    for (const std::string& part : split(key, sep)) {
        if (part.empty() || part == "." || part == "..") return std::nullopt;
        if (!dotted.empty()) dotted += '.';
        dotted += part;
    }
    return dotted;
}

SysctlScope sysctl_scope(std::string_view key) {
    auto name = normalize_sysctl(key);
    if (!name) return SysctlScope::kInvalid;
    std::string_view n = *name;
    // The IPC namespace carries SysV IPC limits and POSIX message queue settings.
    if (starts_with(n, "kernel.msg") || starts_with(n, "kernel.shm") || n == "kernel.sem" ||
        n == "kernel.sem_next_id" || starts_with(n, "fs.mqueue.")) {
        return SysctlScope::kIpc;
    }
    if (starts_with(n, "net.")) return SysctlScope::kNetwork;
    if (n == "kernel.hostname" || n == "kernel.domainname") return SysctlScope::kUts;
    return SysctlScope::kHost;
}

Result<void> check_sysctls(const Spec& spec) {
    for (const auto& [key, value] : spec.linux->sysctl) {
        Error err(EINVAL);
        err << "linux.sysctl[" << quote(key) << "]: ";
        switch (sysctl_scope(key)) {
            case SysctlScope::kInvalid:
                return err << "invalid sysctl name";
            case SysctlScope::kHost:
                return err << "not a namespaced sysctl";
            case SysctlScope::kIpc:
                if (!spec.has_namespace("ipc")) {
                    return err << "requires an ipc namespace (the container shares the host's)";
                }
                break;
            case SysctlScope::kNetwork:
                if (!spec.has_namespace("network")) {
                    return err << "requires a network namespace (the container shares the host's)";
                }
                break;
            case SysctlScope::kUts:
                if (!spec.has_namespace("uts")) {
                    return err << "requires a uts namespace (the container shares the host's)";
                }
                break;
        }
    }
    return {};
}

Result<void> check_user_namespace(const Spec& spec) {
    const Linux& lx = *spec.linux;
    const Namespace* user = spec.find_namespace("user");
    bool has_maps = !lx.uid_mappings.empty() || !lx.gid_mappings.empty();
    if (has_maps && !user) {
        return Error(EINVAL) << (lx.uid_mappings.empty() ? "linux.gidMappings"
                                                         : "linux.uidMappings")
                             << ": requires a user namespace in linux.namespaces";
    }
    // A new user namespace without maps leaves every id unmapped (runc refuses it too).
    if (user && user->path.empty()) {
        if (lx.uid_mappings.empty()) {
            return Error(EINVAL) << "linux.uidMappings: required with a new user namespace";
        }
        if (lx.gid_mappings.empty()) {
            return Error(EINVAL) << "linux.gidMappings: required with a new user namespace";
        }
    }
    return {};
}

Result<void> check_time_offsets(const Spec& spec) {
    if (spec.linux->time_offsets.empty()) return {};
    const Namespace* time = spec.find_namespace("time");
    if (!time) return Error(EINVAL) << "linux.timeOffsets: requires a time namespace";
    // Offsets can only be written before any process enters the namespace.
    if (!time->path.empty()) {
        return Error(EINVAL)
               << "linux.timeOffsets: requires a new time namespace, not a joined one";
    }
    return {};
}

}  // namespace

Result<void> validate_spec(const Spec& spec) {
    if (!spec.hostname.empty() && !spec.has_namespace("uts")) {
        return Error(EINVAL) << "hostname: requires a uts namespace in linux.namespaces";
    }
    if (!spec.domainname.empty() && !spec.has_namespace("uts")) {
        return Error(EINVAL) << "domainname: requires a uts namespace in linux.namespaces";
    }
    if (!spec.linux) return {};
    BERTH_TRY(check_user_namespace(spec));
    BERTH_TRY(check_time_offsets(spec));
    BERTH_TRY(check_sysctls(spec));
    return {};
}

}  // namespace berth::oci::detail
