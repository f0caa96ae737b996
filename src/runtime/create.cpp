// `create`: from a bundle to an init waiting for `start`, or nothing at all.
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/socket.h>
#include "base/file.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "cgroup/manager.h"
#include "runtime/api.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/devices.h"
#include "runtime/hooks.h"
#include "runtime/init_plan.h"
#include "runtime/rootless.h"
#include "runtime/spawn.h"
#include "runtime/state.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::runtime {
namespace {

Result<std::string> absolute_bundle(const std::string& bundle) {
    char real[PATH_MAX];
    if (!::realpath(bundle.c_str(), real)) return ErrnoError() << "--bundle `" << bundle << "`";
    return std::string(real);
}

oci::Resources resources_with_default_devices(const oci::Spec& spec) {
    oci::Resources r;
    if (spec.linux && spec.linux->resources) r = *spec.linux->resources;
    // The spec's own rules come first; the devices every container needs are allowed after
    // them, as runc does, so a "deny all" in the config does not lock out /dev/null.
    for (auto& rule : default_device_rules()) r.devices.push_back(rule);
    return r;
}

Result<void> enter_for_intermediate(const InitPlan& plan) {
    for (const auto& j : plan.ns.join) {
        if (j.flag != CLONE_NEWUSER && j.flag != CLONE_NEWPID && j.flag != CLONE_NEWTIME) continue;
        if (::setns(j.fd.get(), j.flag) < 0)
            return ErrnoError() << "linux.namespaces: join " << namespace_type_name(j.flag)
                                << " namespace `" << j.path << "`";
    }
    if (plan.ns.create_flags & CLONE_NEWTIME) {
        if (::unshare(CLONE_NEWTIME) < 0)
            return ErrnoError() << "linux.namespaces: create time namespace";
        BERTH_TRY(write_time_offsets(::getpid(), *plan.spec.linux));
    }
    return {};
}

}  // namespace

Result<Created> create_container(const GlobalOptions& g, const CreateOptions& o) {
    BERTH_TRY(StateDir::check_id(o.id));
    std::string bundle = BERTH_TRY(absolute_bundle(o.bundle));
    std::string config_path =
        o.config_file.empty() ? path_join(bundle, "config.json") : o.config_file;
    std::string config_text = BERTH_TRY(read_file(config_path));
    auto spec = oci::parse_spec(config_text);
    if (!spec) return std::move(spec).error().wrap("config.json");
    std::string oci_version = spec->oci_version;
    auto annotations = spec->annotations;
    auto resources = resources_with_default_devices(*spec);
    std::string cgroups_path = spec->linux ? spec->linux->cgroups_path : "";

    InitPlan plan = BERTH_TRY(
        plan_init(std::move(*spec), bundle, o.no_pivot, o.no_new_keyring, o.preserve_fds));
    plan.id = o.id;
    const bool proxy =
        plan.process.process.terminal && o.console_socket.empty() && o.proxy_terminal;
    if (plan.process.process.terminal && o.console_socket.empty() && !proxy)
        return Error(EINVAL) << "process.terminal is true but no --console-socket was given";
    if (!plan.process.process.terminal && !o.console_socket.empty())
        return Error(EINVAL) << "--console-socket given but process.terminal is false";

    StateDir dir = BERTH_TRY(StateDir::create(g.root, o.id));
    auto remove_dir = make_scope_guard([&] { (void)dir.remove(); });

    // A relative (or empty: /berth/<id> below us) cgroupsPath is below the creator's own
    // cgroup; later verbs may run elsewhere, so they resolve it against the creator's
    // /proc/self/cgroup, kept here. An absolute one needs neither.
    if (cgroups_path.empty() || cgroups_path.front() != '/')
        BERTH_TRY(write_file(dir.file("cgroup.origin"), BERTH_TRY(read_file("/proc/self/cgroup")),
                             true, 0600));
    // Saved before the cgroup exists: a create killed from here on leaves a state directory
    // without state.json, from which `delete --force` still finds the cgroup to remove.
    BERTH_TRY(dir.save_config(config_text));
    cgroup::Options copts;
    copts.cgroups_path = cgroups_path;
    copts.id = o.id;
    copts.systemd = g.systemd_cgroup;
    // Read once: the cgroup manager and the container's cgroup mounts both need it.
    copts.mountinfo_text = BERTH_TRY(read_file("/proc/self/mountinfo"));
    auto cg = BERTH_TRY(cgroup::open(copts));
    BERTH_TRY_CTX(cg->create(), "linux.cgroupsPath");
    auto destroy_cgroup = make_scope_guard([&] { (void)cg->destroy(); });
    // Rootless (cgroup::open kept only the hierarchies we may write): limits with nowhere to
    // go are left out with a warning, as runc --rootless=auto; device rules always.
    if (rootless()) warn_limits_not_applied(drop_unreachable_limits(*cg, resources));
    for (auto& m : plan.spec.mounts)
        if (m.type == "cgroup") {
            plan.mounts.cgroups = BERTH_TRY(cgroup_hierarchies(cg->paths(), copts.mountinfo_text));
            break;
        }

    // The start gate and the init's report: fifos in the state directory that a later `start`
    // opens, or, when this process starts the container itself (`run`), two pipes it keeps
    // the other ends of: no inodes to make and unlink.
    UniqueFd fifo_fd, result_fd, gate_parent, result_parent;
    if (o.in_process_start) {
        auto gate = BERTH_TRY(make_pipe(O_CLOEXEC));
        auto report = BERTH_TRY(make_pipe(O_CLOEXEC));
        fifo_fd = std::move(gate.first);
        gate_parent = std::move(gate.second);
        result_parent = std::move(report.first);
        result_fd = std::move(report.second);
    } else {
        std::string fifo = dir.fifo_path();
        if (::mkfifo(fifo.c_str(), 0600) < 0) return ErrnoError() << "mkfifo `" << fifo << "`";
        fifo_fd = BERTH_TRY(open_fd(fifo, O_RDWR));
        std::string result = dir.result_fifo_path();
        if (::mkfifo(result.c_str(), 0600) < 0) return ErrnoError() << "mkfifo `" << result << "`";
        result_fd = BERTH_TRY(open_fd(result, O_RDWR));
    }
    plan.fifo_fd = fifo_fd.get();
    plan.result_fd = result_fd.get();
    UniqueFd console;
    std::optional<ConsoleListener> listener;
    if (proxy) listener.emplace(BERTH_TRY(ConsoleListener::create(dir.file("console.sock"))));
    if (plan.process.process.terminal) {
        console = BERTH_TRY(connect_console_socket(listener ? listener->path() : o.console_socket));
        plan.console_fd = console.get();
    }

    auto pair = BERTH_TRY(make_socketpair(SOCK_SEQPACKET));
    Channel chan(std::move(pair.first));
    Channel child_chan(std::move(pair.second));
    unsigned long flags = plan.ns.create_flags & ~(CLONE_NEWCGROUP | CLONE_NEWTIME);
    // The init joins its cgroup without a cgroup.procs write (see cgroup::SelfJoin): born in
    // the cgroup2 part, it moves itself into the v1 hierarchies first thing. Not when
    // execCPUAffinity.initial is set: that affinity is for the time before the cgroup (it may
    // lie outside the container's cpuset), so the parent moves the init later, as before.
    const bool self_join = !plan.process.affinity_initial;
    cgroup::SelfJoin join;
    if (self_join) join = BERTH_TRY_CTX(cg->open_self_join(), "linux.cgroupsPath");
    auto child = [&]() {
        chan.close();
        gate_parent.reset();
        result_parent.reset();
        ::close(dir.lock_fd());
        if (self_join) {
            if (auto r = cgroup::join_self(join); !r) {
                (void)child_chan.send_error(std::move(r).error().wrap("linux.cgroupsPath"));
                _exit(1);
            }
        }
        run_container_init(plan, child_chan);
    };
    pid_t pid;
    // CLONE_INTO_CGROUP only from here: an intermediate in a joined user namespace may not
    // have the permission, and kernels before 5.7 do not know it (then the parent moves the
    // init into the cgroup2 part by pid, overlapped with the init's setup, below).
    int clone_into = self_join && !plan.needs_intermediate ? join.clone_into.get() : -1;
    if (plan.needs_intermediate) {
        pid = BERTH_TRY(clone_via_intermediate(
            flags, chan, child_chan,
            [&] {
                ::close(dir.lock_fd());
                return enter_for_intermediate(plan);
            },
            child));
    } else {
        auto cloned = clone_child(flags, child, clone_into);
        if (!cloned && clone_into >= 0) {
            clone_into = -1;
            cloned = clone_child(flags, child);
        }
        pid = BERTH_TRY(std::move(cloned));
    }
    join = {};
    child_chan.close();
    fifo_fd.reset();
    result_fd.reset();
    console.reset();
    auto kill_init = make_scope_guard([pid] {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    });

    // The init may fail on its own (a cgroup it could not join, a mount), and exit: its error,
    // queued on the channel, is the one worth reporting rather than ours (ESRCH, EPIPE) that
    // followed from it.
    auto init_error_or = [&](Error ours) -> Error {
        kill_init.dismiss();
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        if (auto m = chan.receive(); !m && m.error().errno_value() != EPIPE)
            return std::move(m).error();
        return ours;
    };
    if (plan.ns.create_flags & CLONE_NEWUSER) {
        if (auto maps =
                write_id_maps(pid, plan.spec.linux->uid_mappings, plan.spec.linux->gid_mappings);
            !maps)
            return init_error_or(std::move(maps).error());
    }
    // A cgroup.procs write by pid still needed (the cgroup2 part when the init could not be
    // cloned into it; everything without self_join) waits for an RCU grace period: Go first,
    // so the init makes its mounts meanwhile. It waits for CgroupJoined before anything that
    // needs the cgroup: its cgroup namespace, hooks, affinity and scheduler, and Ready (see
    // init_child.cpp).
    if (auto go = chan.send(Msg::Go); !go) return init_error_or(std::move(go).error());
    Result<void> joined;
    if (!self_join) {
        joined = cg->add_process(pid);
    } else if (clone_into < 0) {
        joined = cg->add_process_unified(pid);
    }
    if (!joined) return init_error_or(std::move(joined).error().wrap("linux.cgroupsPath"));
    if (auto sent = chan.send(Msg::CgroupJoined); !sent)
        return init_error_or(std::move(sent).error());

    ContainerState st;
    st.oci_version = oci_version;
    st.id = o.id;
    st.status = "creating";
    st.pid = pid;
    st.bundle = bundle;
    st.annotations = annotations;
    if (plan.create_hooks) {
        BERTH_TRY(chan.expect(Msg::RunCreateHooks));
        std::string state_text = state_json(st);
        BERTH_TRY(run_hooks(plan.spec.hooks.prestart, "prestart", state_text));
        BERTH_TRY(run_hooks(plan.spec.hooks.create_runtime, "createRuntime", state_text));
        BERTH_TRY(chan.send(Msg::HooksDone, 0, state_text));
    }
    BERTH_TRY(chan.expect(Msg::Ready));
    // Limits go on once the rootfs is made: the device rules would forbid the init's own
    // mknod of the spec's devices. Nothing of the user's runs before `start`.
    BERTH_TRY(cg->apply(resources));

    Record rec;
    rec.id = o.id;
    rec.bundle = bundle;
    rec.rootfs = plan.rootfs;
    rec.pid = pid;
    rec.pid_start = BERTH_TRY(process_start_time(pid));
    rec.created = now_rfc3339();
    rec.owner_uid = ::getuid();
    rec.annotations = annotations;
    rec.cgroups_path = cgroups_path;
    rec.systemd_cgroup = g.systemd_cgroup;
    rec.oci_version = oci_version;
    BERTH_TRY(dir.save(rec));
    if (!o.pid_file.empty()) BERTH_TRY(write_file_atomic(o.pid_file, std::to_string(pid), 0644));
    // The handshake's end: the init clears its PDEATHSIG and closes the channel; exiting before
    // that EOF would kill it.
    BERTH_TRY(chan.send(Msg::Created));
    if (auto m = chan.receive(); m) {
        return Error(EPROTO) << "unexpected " << msg_name(m->type) << " after created";
    } else if (m.error().errno_value() != EPIPE) {
        return std::move(m).error();
    }

    kill_init.dismiss();
    destroy_cgroup.dismiss();
    remove_dir.dismiss();
    Created made{pid, std::move(rec), std::move(listener)};
    if (o.in_process_start) {
        made.start_gate = std::move(gate_parent);
        made.start_result = std::move(result_parent);
        made.cgroup = std::move(cg);
        made.poststart = std::move(plan.spec.hooks.poststart);
        made.poststop = std::move(plan.spec.hooks.poststop);
    }
    return made;
}

Result<void> create(const GlobalOptions& g, const CreateOptions& o) {
    BERTH_TRY(create_container(g, o));
    return {};
}

}  // namespace berth::runtime
