// The container init between clone and execve. Runs in a fork of the single-threaded
// runtime; every failure goes back to the parent as an Error message on the channel.
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "runtime/console.h"
#include "runtime/devices.h"
#include "runtime/hooks.h"
#include "runtime/init_plan.h"
#include "runtime/rootfs.h"
#include "runtime/secure_path.h"

namespace berth::runtime {
namespace {

Result<void> join_namespaces(const InitPlan& plan, bool skip_inherited) {
    for (const auto& j : plan.ns.join) {
        // The intermediate already entered these; they apply to us through clone.
        if (skip_inherited && (j.flag == CLONE_NEWUSER || j.flag == CLONE_NEWPID || j.flag == 0x80))
            continue;
        if (::setns(j.fd.get(), j.flag) < 0)
            return ErrnoError() << "linux.namespaces: join " << namespace_type_name(j.flag)
                                << " namespace `" << j.path << "`";
    }
    return {};
}

Result<void> set_sysctls(const std::map<std::string, std::string>& sysctl) {
    for (auto& [key, value] : sysctl) {
        std::string path = "/proc/sys/" + key;
        // "net.ipv4.ip_forward" is dotted; "net/ipv4/conf/eth0.100/rp_filter" is already a path.
        if (key.find('/') == std::string::npos)
            for (size_t i = 10; i < path.size(); ++i)
                if (path[i] == '.') path[i] = '/';
        auto r = write_file(path, value);
        if (!r) return std::move(r).error().wrap("linux.sysctl[\"" + key + "\"]");
    }
    return {};
}

Result<void> setup_mounts(const InitPlan& plan) {
    BERTH_TRY(prepare_root(plan.rootfs, plan.root_propagation));
    for (size_t i = 0; i < plan.spec.mounts.size(); ++i)
        BERTH_TRY(do_mount(plan.mounts, plan.spec.mounts[i], i));
    if (plan.make_default_devices) {
        BERTH_TRY(create_devices(plan.rootfs, plan.devices, plan.mounts.userns, "linux.devices"));
        BERTH_TRY(create_dev_symlinks(plan.rootfs));
    }
    // runc creates a missing cwd; images often lack it (WORKDIR of a volume, say).
    BERTH_TRY_CTX(make_cwd_in_root(plan.rootfs, plan.process.process.cwd), "process.cwd");
    return {};
}

Result<void> finish_root(const InitPlan& plan) {
    BERTH_TRY(enter_root(plan.rootfs, plan.no_pivot));
    BERTH_TRY(set_root_propagation(plan.root_propagation));
    const auto& l = *plan.spec.linux;
#ifndef BERTH_WEAKEN_PROC_OVER
    BERTH_TRY(check_kernel_mounts(plan.spec.mounts));
#endif
#ifndef BERTH_WEAKEN_MASKED
    BERTH_TRY(mask_paths(l.masked_paths));
#endif
    BERTH_TRY(readonly_paths(l.readonly_paths));
    if (plan.spec.root.readonly) BERTH_TRY(remount_root_readonly());
    return {};
}

// `start` writes the state JSON, length first, into the exec fifo; the init reads it for
// the startContainer hooks.
Result<std::string> wait_for_start(int fifo_fd) {
    uint32_t len = 0;
    size_t got = 0;
    while (got < sizeof(len)) {
        ssize_t n = ::read(fifo_fd, reinterpret_cast<char*>(&len) + got, sizeof(len) - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ErrnoError() << "read exec fifo";
        got += static_cast<size_t>(n);
    }
    std::string state(len, '\0');
    got = 0;
    while (got < len) {
        ssize_t n = ::read(fifo_fd, state.data() + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ErrnoError() << "read exec fifo";
        got += static_cast<size_t>(n);
    }
    return state;
}

Result<void> init_steps(InitPlan& plan, Channel& chan) {
    const bool intermediate = plan.needs_intermediate;
    BERTH_TRY(apply_initial_affinity(plan.process));
    BERTH_TRY(chan.expect(Msg::Go));
#ifndef BERTH_WEAKEN_PROC_EXE
    // Rootless: our id maps are written now; nothing of the container runs before this.
    if (plan.dumpable_until_go) ::prctl(PR_SET_DUMPABLE, 0);
#endif
    // The parent joins us to the cgroup while we set up (create.cpp); wait for it before the
    // first step that needs it.
    bool in_cgroup = false;
    auto await_cgroup = [&]() -> Result<void> {
        if (!in_cgroup) BERTH_TRY(chan.expect(Msg::CgroupJoined));
        in_cgroup = true;
        return {};
    };
    if (plan.ns.create_flags & CLONE_NEWUSER) {
        // Become root of the new user namespace (mapped by the parent) for the setup.
        if (::setresgid(0, 0, 0) < 0) return ErrnoError() << "setgid 0 in the user namespace";
        if (::setresuid(0, 0, 0) < 0) return ErrnoError() << "setuid 0 in the user namespace";
    }
    BERTH_TRY(join_namespaces(plan, intermediate));
    if (plan.ns.create_flags & CLONE_NEWCGROUP) BERTH_TRY(await_cgroup());
    if ((plan.ns.create_flags & CLONE_NEWCGROUP) && ::unshare(CLONE_NEWCGROUP) < 0)
        return ErrnoError() << "linux.namespaces: create cgroup namespace";
    if (!plan.spec.hostname.empty() &&
        ::sethostname(plan.spec.hostname.data(), plan.spec.hostname.size()) < 0)
        return ErrnoError() << "hostname: sethostname";
    if (!plan.spec.domainname.empty() &&
        ::setdomainname(plan.spec.domainname.data(), plan.spec.domainname.size()) < 0)
        return ErrnoError() << "domainname: setdomainname";
    BERTH_TRY(set_sysctls(plan.spec.linux->sysctl));
    if (!plan.no_new_keyring) {
        // A session keyring of its own, so the container cannot read the host's keys.
        // Kernels without keyrings (ENOSYS) or that refuse it to a user namespace are fine.
        if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan.id.c_str()) < 0 &&
            errno != ENOSYS && errno != EACCES && errno != EPERM && errno != EDQUOT)
            return ErrnoError() << "join a new session keyring";
    }
    BERTH_TRY(setup_mounts(plan));
    if (plan.create_hooks) {
        BERTH_TRY(await_cgroup());
        BERTH_TRY(chan.send(Msg::RunCreateHooks));
        auto done = BERTH_TRY(chan.expect(Msg::HooksDone));
        BERTH_TRY(run_hooks(plan.spec.hooks.create_container, "createContainer", done.text));
    }
    BERTH_TRY(finish_root(plan));
    if (plan.process.process.terminal)
        BERTH_TRY(setup_console(plan.console_fd, plan.process.process.console_size));
    if (plan.console_fd >= 0) ::close(plan.console_fd);
    BERTH_TRY(await_cgroup());
    BERTH_TRY(apply_process_attrs(plan.process));
    std::string exe = BERTH_TRY(find_executable(plan.process));
#ifndef BERTH_WEAKEN_HOST_FDS
    BERTH_TRY(close_other_fds(plan.preserve_fds, {chan.fd(), plan.fifo_fd, plan.result_fd}));
#endif
    BERTH_TRY(chan.send(Msg::Ready));
    // Our life stays tied to create's (PDEATHSIG, and EOF here) until its state names us: a
    // create killed before then leaves no init waiting for a `start` nobody can find.
    BERTH_TRY(chan.expect(Msg::Created));
    ::prctl(PR_SET_PDEATHSIG, 0);
    chan.close();  // create exits once it sees this EOF, so never before PDEATHSIG is clear
    std::string state = BERTH_TRY(wait_for_start(plan.fifo_fd));
    ::close(plan.fifo_fd);
    plan.fifo_fd = -1;
    BERTH_TRY(run_hooks(plan.spec.hooks.start_container, "startContainer", state));
    BERTH_TRY(apply_identity(plan.process));
    return exec_process(plan.process, exe);
}

}  // namespace

void run_container_init(InitPlan& plan, Channel& chan) {
    // Other processes of the container must not reach the runtime binary through
    // /proc/PID/exe while we still run it (CVE-2019-5736); execve makes us dumpable again.
#ifndef BERTH_WEAKEN_PROC_EXE
    if (!plan.dumpable_until_go) ::prctl(PR_SET_DUMPABLE, 0);
#endif
    auto r = init_steps(plan, chan);
    if (chan.fd() >= 0) {
        (void)chan.send_error(r.error());
    } else if (plan.fifo_fd < 0 && plan.result_fd >= 0) {
        // After `start` released us: its caller reads this; the exit code is a shell's.
        (void)write_all(plan.result_fd, r.error().what());
        _exit(r.error().errno_value() == ENOENT ? 127 : 126);
    } else {
        dprintf(2, "berth-runtime: container init: %s\n", r.error().what().c_str());
    }
    _exit(1);
}

}  // namespace berth::runtime
