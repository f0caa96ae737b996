// `exec`: a new process in a running container's namespaces and cgroup, with the container's
// seccomp profile and the capabilities and user its process spec asks for.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/scope_guard.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/foreground.h"
#include "runtime/namespaces.h"
#include "runtime/process_setup.h"
#include "runtime/spawn.h"
#include "runtime/tty_proxy.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::runtime {
namespace {

// The container init's namespaces, in the order they must be entered: user first (it owns
// the others), mount last (it changes root and cwd).
Result<std::vector<JoinNs>> open_init_namespaces(pid_t pid, const oci::Spec& spec) {
    static const int order[] = {CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS,  CLONE_NEWNET,
                                CLONE_NEWPID,  CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS};
    std::vector<JoinNs> out;
    for (int flag : order) {
        bool wanted = false;
        if (spec.linux)
            for (auto& n : spec.linux->namespaces)
                if (namespace_flag(n.type) == flag) wanted = true;
        if (!wanted) continue;
        std::string path = "/proc/" + std::to_string(pid) + "/ns/" + namespace_proc_name(flag);
        auto fd = open_fd(path, O_RDONLY);
        if (!fd) return std::move(fd).error().wrap("open the container's namespace");
        out.push_back({flag, std::move(*fd), path});
    }
    return out;
}

struct ExecPlan {
    ProcessPlan process;
    std::vector<JoinNs> namespaces;
    int console_fd = -1;
    unsigned preserve_fds = 0;
};

[[noreturn]] void exec_child(ExecPlan& plan, Channel& chan) {
#ifndef BERTH_WEAKEN_PROC_EXE
    ::prctl(PR_SET_DUMPABLE, 0);
#endif
    auto steps = [&]() -> Result<void> {
        BERTH_TRY(apply_initial_affinity(plan.process));
        BERTH_TRY(chan.expect(Msg::Go));
        if (plan.process.process.terminal)
            BERTH_TRY(setup_console(plan.console_fd, plan.process.process.console_size));
        if (plan.console_fd >= 0) ::close(plan.console_fd);
        BERTH_TRY(apply_process_attrs(plan.process));
        std::string exe = BERTH_TRY(find_executable(plan.process));
#ifndef BERTH_WEAKEN_HOST_FDS
        BERTH_TRY(close_other_fds(plan.preserve_fds, {chan.fd()}));
#endif
        ::prctl(PR_SET_PDEATHSIG, 0);
        BERTH_TRY(apply_identity(plan.process));
        // The channel is close-on-exec: the parent reads EOF once execve has succeeded.
        return exec_process(plan.process, exe);
    };
    auto r = steps();
    (void)chan.send_error(r.error());
    _exit(1);
}

}  // namespace

Result<int> exec(const GlobalOptions& g, const ExecOptions& o) {
    Container c = BERTH_TRY(load_container(g, o.id));
    std::string status = c.status();
    if (status == "stopped") return Error(EINVAL) << "cannot exec in a stopped container";
    if (status == "paused") return Error(EINVAL) << "cannot exec in a paused container";
    oci::Spec spec = BERTH_TRY(c.dir.load_config());
    if (o.process.args.empty()) return Error(EINVAL) << "process.args: must not be empty";

    ExecPlan plan;
    plan.process =
        BERTH_TRY(plan_process(o.process, spec.linux ? spec.linux->seccomp : std::nullopt,
                               spec.linux ? spec.linux->personality : std::nullopt));
    plan.namespaces = BERTH_TRY(open_init_namespaces(c.record.pid, spec));
    plan.preserve_fds = o.preserve_fds;

    std::optional<ConsoleListener> listener;
    UniqueFd console;
    if (plan.process.process.terminal) {
        std::string socket_path = o.console_socket;
        if (socket_path.empty()) {
            if (o.detach)
                return Error(EINVAL)
                       << "cannot allocate a tty for a detached exec without --console-socket";
            listener.emplace(BERTH_TRY(ConsoleListener::create(
                path_join(c.dir.path(), "exec-" + std::to_string(::getpid()) + ".console"))));
            socket_path = listener->path();
        }
        console = BERTH_TRY(connect_console_socket(socket_path));
        plan.console_fd = console.get();
    } else if (!o.console_socket.empty()) {
        return Error(EINVAL) << "--console-socket given but the process has no terminal";
    }

    auto pair = BERTH_TRY(make_socketpair(SOCK_SEQPACKET));
    Channel chan(std::move(pair.first));
    Channel child_chan(std::move(pair.second));
    auto enter = [&]() -> Result<void> {
        ::close(c.dir.lock_fd());
        for (auto& j : plan.namespaces)
            if (::setns(j.fd.get(), j.flag) < 0)
                return ErrnoError()
                       << "join the container's " << namespace_proc_name(j.flag) << " namespace";
        return {};
    };
    // The process joins the container's cgroup by itself, as the init does (cgroup::SelfJoin):
    // a cgroup.procs write by pid would cost an RCU grace period (5-25 ms) per exec.
    cgroup::SelfJoin join =
        BERTH_TRY_CTX(c.cgroup->open_self_join(), "join the container's cgroup");
    bool cloned_into = false;
    pid_t pid = BERTH_TRY(clone_via_intermediate(
        0, chan, child_chan, enter,
        [&] {
            if (auto r = cgroup::join_self(join); !r) {
                (void)child_chan.send_error(
                    std::move(r).error().wrap("join the container's cgroup"));
                _exit(1);
            }
            exec_child(plan, child_chan);
        },
        join.clone_into.get(), &cloned_into));
    join = {};
    child_chan.close();
    console.reset();
    auto kill_child = make_scope_guard([pid] {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    });
    if (!cloned_into)
        BERTH_TRY_CTX(c.cgroup->add_process_unified(pid), "join the container's cgroup");
    BERTH_TRY(chan.send(Msg::Go));
    // EOF: execve succeeded (the channel is close-on-exec). An Error: it did not.
    auto m = chan.receive();
    if (m) return Error(EPROTO) << "unexpected " << msg_name(m->type) << " from exec process";
    if (m.error().errno_value() != EPIPE) return std::move(m).error();
    kill_child.dismiss();
    if (!o.pid_file.empty()) BERTH_TRY(write_file_atomic(o.pid_file, std::to_string(pid), 0644));
    if (o.detach) return 0;
    UniqueFd master;
    if (listener) master = BERTH_TRY(listener->receive_master());
    ForegroundSignals signals = BERTH_TRY(ForegroundSignals::block());
    // Release the state lock while we wait: other verbs must work on this container.
    c = Container{};
    return wait_foreground(pid, signals, master);
}

}  // namespace berth::runtime
