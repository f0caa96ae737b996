// start, kill, delete, pause, resume: the verbs that change a created container's life.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <thread>

#include "base/file.h"
#include "base/log.h"
#include "base/syscalls.h"
#include "runtime/container.h"
#include "runtime/hooks.h"

namespace berth::runtime {

// Hands the init its state through the gate and waits until it has exec'd the user's
// process (the report closes) or says why it could not; then the poststart hooks.
static Result<void> release_init(BorrowedFd gate, BorrowedFd report, ContainerState st,
                                 const std::vector<oci::Hook>& poststart) {
    std::string text = state_json(st);  // "created": what the startContainer hooks see
    uint32_t len = static_cast<uint32_t>(text.size());
    // Blocking: the state may exceed the pipe buffer.
    ::fcntl(gate.get(), F_SETFL, O_WRONLY);
    BERTH_TRY(write_all(gate, std::string_view(reinterpret_cast<char*>(&len), sizeof(len))));
    BERTH_TRY(write_all(gate, text));
    ::fcntl(report.get(), F_SETFL, O_RDONLY);
    std::string failure = BERTH_TRY(read_fd(report));
    if (!failure.empty()) return Error(ECANCELED) << failure;
    st.status = "running";
    auto r = run_hooks(poststart, "poststart", state_json(st));
    if (!r) log::warn(r.error().what());
    return {};
}

Result<void> start(const GlobalOptions& g, const std::string& id) {
    Container c = BERTH_TRY(load_container(g, id));
    std::string status = c.status();
    if (status == "stopped") return Error(EINVAL) << "cannot start a container that has stopped";
    if (status != "created")
        return Error(EINVAL) << "cannot start a container in the " << status << " state";
    oci::Spec spec = BERTH_TRY(c.dir.load_config());
    // Opening the fifo for writing succeeds only while the init holds it: a dead init reads
    // as ENXIO here, not as a hang.
    auto fd = open_fd(c.dir.fifo_path(), O_WRONLY | O_NONBLOCK);
    if (!fd) {
        if (fd.error().errno_value() == ENXIO)
            return Error(ESRCH) << "cannot start a container that has stopped";
        return std::move(fd).error();
    }
    // Opened before the gate is released: the init's error text must find a reader.
    auto result = open_fd(c.dir.result_fifo_path(), O_RDONLY | O_NONBLOCK);
    if (!result) return std::move(result).error();
    ContainerState st = c.to_state();  // "created"
    // Unlinked first: from here on `state` reads "running", as the init is about to.
    ::unlink(c.dir.fifo_path().c_str());
    ::unlink(c.dir.result_fifo_path().c_str());
    return release_init(*fd, *result, std::move(st), spec.hooks.poststart);
}

Result<void> start_created(Created& c) {
    ContainerState st;
    st.oci_version = c.record.oci_version;
    st.id = c.record.id;
    st.status = "created";
    st.pid = c.record.pid;
    st.bundle = c.record.bundle;
    st.annotations = c.record.annotations;
    st.created = c.record.created;
    st.owner = c.record.owner_uid == 0 ? "root" : std::to_string(c.record.owner_uid);
    st.rootfs = c.record.rootfs;
    UniqueFd gate = std::move(c.start_gate), report = std::move(c.start_result);
    return release_init(gate, report, std::move(st), c.poststart);
}

static Result<void> signal_init(Container& c, int signal) {
    UniqueFd pidfd(sys::pidfd_open(c.record.pid));
    if (!pidfd || !c.alive()) return Error(ESRCH) << "container not running";
    if (sys::pidfd_send_signal(pidfd.get(), signal) < 0)
        return ErrnoError() << "signal container init " << c.record.pid;
    return {};
}

static Result<void> signal_all(Container& c, int signal) {
    // Frozen while signalled, so nothing forks past the list; thawed so SIGKILL lands.
    bool freeze = signal == SIGKILL && !BERTH_TRY(c.cgroup->frozen());
    if (freeze) (void)c.cgroup->freeze();
    auto pids = c.cgroup->pids();
    if (pids)
        for (pid_t p : *pids) ::kill(p, signal);
    if (freeze) (void)c.cgroup->thaw();
    if (!pids) return std::move(pids).error();
    return {};
}

Result<void> kill(const GlobalOptions& g, const std::string& id, int signal, bool all) {
    Container c = BERTH_TRY(load_container(g, id));
    if (all) {
        // containerd sends `kill --all` to stopped containers too; runc answers 0.
        if (!c.alive() && BERTH_TRY(c.cgroup->pids()).empty()) return {};
        return signal_all(c, signal);
    }
    return signal_init(c, signal);
}

static void wait_gone(Container& c) {
    for (int i = 0; i < 500 && c.alive(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

// A create killed before it wrote state.json leaves its directory, maybe a cgroup with the
// init in it. The saved config and the creator's cgroup file lead to the cgroup.
static Result<void> remove_half_created(const GlobalOptions& g, const std::string& id) {
    std::string path = path_join(g.root, id);
    auto dir = open_fd(path, O_RDONLY | O_DIRECTORY);
    if (!dir) return {};
    // A create still running holds this lock; once we have it, it has finished or died.
    while (::flock(dir->get(), LOCK_EX) < 0)
        if (errno != EINTR) return ErrnoError() << "lock `" << path << "`";
    if (path_exists(path_join(path, "state.json"))) return {};
    auto text = read_file(path_join(path, "config.json"));
    if (text) {
        auto spec = oci::parse_spec(*text);
        if (spec) {
            cgroup::Options o;
            o.cgroups_path = spec->linux ? spec->linux->cgroups_path : "";
            o.id = id;
            o.systemd = g.systemd_cgroup;
            o.proc_self_cgroup = path_join(path, "cgroup.origin");
            if (auto cg = cgroup::open(o)) BERTH_TRY((*cg)->destroy());
        }
    }
    return remove_all(path);
}

// Kills what is left, removes the cgroup, runs the poststop hooks and the state directory.
static Result<void> remove_loaded(Container& c, const std::vector<oci::Hook>* poststop) {
    std::string status = c.status();
    if (status == "paused") (void)c.cgroup->thaw();
    if (c.alive()) {
        (void)signal_init(c, SIGKILL);
        wait_gone(c);
    }
    auto destroyed = c.cgroup->destroy();
    if (poststop) {
        ContainerState st = c.to_state();
        st.status = "stopped";
        auto r = run_hooks(*poststop, "poststop", state_json(st));
        if (!r) log::warn(r.error().what());
    }
    BERTH_TRY(c.dir.remove());
    if (!destroyed) return std::move(destroyed).error().wrap("remove cgroup");
    return {};
}

Result<void> remove(const GlobalOptions& g, const std::string& id, bool force) {
    auto loaded = load_container(g, id);
    if (!loaded) {
        if (force && loaded.error().errno_value() == ENOENT && StateDir::check_id(id).ok())
            // runc: --force on a container that does not exist is not an error.
            return remove_half_created(g, id);
        return std::move(loaded).error();
    }
    Container& c = *loaded;
    std::string status = c.status();
    if (status != "stopped" && status != "created" && !force)
        return Error(EBUSY) << "cannot delete container " << id
                            << " that is not stopped: " << status;
    auto spec = c.dir.load_config();
    return remove_loaded(c, spec ? &spec->hooks.poststop : nullptr);
}

Result<void> remove_created(const GlobalOptions& g, Created& c) {
    // Another process may have deleted it meanwhile (`delete --force`): then nothing to do.
    auto dir = StateDir::open(g.root, c.record.id);
    if (!dir) return dir.error().errno_value() == ENOENT ? Result<void>{} : std::move(dir).error();
    Container loaded{std::move(*dir), c.record, std::move(c.cgroup)};
    return remove_loaded(loaded, &c.poststop);
}

Result<void> pause(const GlobalOptions& g, const std::string& id) {
    Container c = BERTH_TRY(load_container(g, id));
    std::string status = c.status();
    if (status != "running" && status != "created")
        return Error(EINVAL) << "container " << id << " is not running: " << status;
    return c.cgroup->freeze();
}

Result<void> resume(const GlobalOptions& g, const std::string& id) {
    Container c = BERTH_TRY(load_container(g, id));
    std::string status = c.status();
    if (status != "paused")
        return Error(EINVAL) << "container " << id << " is not paused: " << status;
    return c.cgroup->thaw();
}

}  // namespace berth::runtime
