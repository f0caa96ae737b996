#include "runtime/init_plan.h"

#include <limits.h>

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>
#include <algorithm>

#include "base/file.h"
#include "runtime/devices.h"
#include "runtime/mount_options.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::runtime {

static Result<void> refuse_unsupported(const oci::Spec& spec) {
    if (!spec.process)
        return Error(EINVAL) << "process: missing; a container needs a process to run";
    if (!spec.linux) return Error(EINVAL) << "linux: missing";
    const auto& l = *spec.linux;
    if (l.has_intel_rdt) return Error(ENOTSUP) << "linux.intelRdt: Intel RDT is not supported";
    if (l.has_memory_policy) return Error(ENOTSUP) << "linux.memoryPolicy: not supported";
    if (l.has_net_devices) return Error(ENOTSUP) << "linux.netDevices: not supported";
    if (!l.mount_label.empty())
        return Error(ENOTSUP) << "linux.mountLabel: SELinux is not available on this host";
    if (l.seccomp && !l.seccomp->listener_path.empty())
        return Error(ENOTSUP)
               << "linux.seccomp.listenerPath: seccomp notify listeners are not supported";
    return {};
}

Result<InitPlan> plan_init(oci::Spec spec, const std::string& bundle, bool no_pivot,
                           bool no_new_keyring, unsigned preserve_fds) {
    BERTH_TRY(refuse_unsupported(spec));
    InitPlan plan;
    plan.bundle = bundle;
    std::string root = spec.root.path;
    if (root.empty()) return Error(EINVAL) << "root.path: missing";
    if (root[0] != '/') root = path_join(bundle, root);
    char real[PATH_MAX];
    if (!::realpath(root.c_str(), real)) return ErrnoError() << "root.path: `" << root << "`";
    if (!is_directory(real))
        return Error(ENOTDIR) << "root.path: `" << root << "` is not a directory";
    plan.rootfs = real;

    plan.ns = BERTH_TRY(plan_namespaces(spec));
    if (!plan.ns.has(CLONE_NEWNS))
        return Error(EINVAL) << "linux.namespaces: a mount namespace is required";
    const auto& l = *spec.linux;
    if ((!l.uid_mappings.empty() || !l.gid_mappings.empty()) &&
        !(plan.ns.create_flags & CLONE_NEWUSER))
        return Error(EINVAL) << "linux.uidMappings: id mappings need a new user namespace";
    if ((plan.ns.create_flags & CLONE_NEWUSER) &&
        (l.uid_mappings.empty() || l.gid_mappings.empty()))
        return Error(EINVAL)
               << "linux.uidMappings: a new user namespace needs uid and gid mappings";
    if (plan.ns.create_flags & CLONE_NEWUSER) {
        // A missing newuidmap fails here, before anything exists on the host.
        BERTH_TRY(check_id_maps_writable(l.uid_mappings, l.gid_mappings));
        plan.dumpable_until_go = ::geteuid() != 0;
    } else if (::geteuid() != 0 && !plan.ns.joins(CLONE_NEWUSER)) {
        return Error(EPERM) << "linux.namespaces: uid " << ::geteuid()
                            << " is not root: a rootless container needs a user namespace"
                            << " (see `berth-runtime spec --rootless`)";
    }
    if (!l.time_offsets.empty() && !(plan.ns.create_flags & CLONE_NEWTIME))
        return Error(EINVAL) << "linux.timeOffsets: time offsets need a new time namespace";
    if (!spec.hostname.empty() && !plan.ns.has(CLONE_NEWUTS))
        return Error(EINVAL) << "hostname: setting the hostname needs a UTS namespace";
    if (!spec.domainname.empty() && !plan.ns.has(CLONE_NEWUTS))
        return Error(EINVAL) << "domainname: setting the domainname needs a UTS namespace";
    // Joining a user or pid namespace, or creating a time namespace, takes effect only for
    // children: an intermediate process enters them and clones the init.
    plan.needs_intermediate = plan.ns.joins(CLONE_NEWUSER) || plan.ns.joins(CLONE_NEWPID) ||
                              (plan.ns.create_flags & CLONE_NEWTIME) ||
                              plan.ns.joins(CLONE_NEWTIME);

    if (!l.rootfs_propagation.empty()) {
        plan.root_propagation = propagation_flag(l.rootfs_propagation);
        if (!plan.root_propagation)
            return Error(EINVAL) << "linux.rootfsPropagation: unknown value \""
                                 << l.rootfs_propagation << "\"";
    }
    bool dev_is_host = false;  // a bind-mounted /dev is the host's: create nothing in it
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        auto& m = spec.mounts[i];
        BERTH_TRY(parse_mount_options(m.options, "mounts[" + std::to_string(i) + "].options"));
        if (!m.uid_mappings.empty() || !m.gid_mappings.empty())
            return Error(ENOTSUP) << "mounts[" << i
                                  << "].uidMappings: idmapped mounts are not supported";
        if (path_clean(m.destination) == "/dev" &&
            (m.type == "bind" ||
             std::find(m.options.begin(), m.options.end(), "bind") != m.options.end() ||
             std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end()))
            dev_is_host = true;
    }
    plan.make_default_devices = !dev_is_host;

    plan.process = BERTH_TRY(plan_process(*spec.process, l.seccomp, l.personality));
    plan.mounts.rootfs = plan.rootfs;
    plan.mounts.bundle = bundle;
    plan.mounts.userns = plan.ns.has(CLONE_NEWUSER);
    plan.mounts.netns = plan.ns.has(CLONE_NEWNET);
    plan.mounts.cgroupns = plan.ns.create_flags & CLONE_NEWCGROUP;

    if (plan.make_default_devices) plan.devices = default_devices();
    for (auto& d : plan.make_default_devices ? l.devices : std::vector<oci::Device>{}) {
        std::erase_if(plan.devices, [&](const oci::Device& x) { return x.path == d.path; });
        plan.devices.push_back(d);
    }
    plan.no_pivot = no_pivot;
    plan.no_new_keyring = no_new_keyring;
    plan.preserve_fds = preserve_fds;
    const auto& h = spec.hooks;
    plan.create_hooks =
        !h.prestart.empty() || !h.create_runtime.empty() || !h.create_container.empty();
    plan.spec = std::move(spec);
    return plan;
}

}  // namespace berth::runtime
