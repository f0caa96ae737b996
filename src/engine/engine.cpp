#include "engine/engine.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "base/signals.h"
#include "base/strings.h"
#include "engine/container_lock.h"
#include "engine/exit_record.h"
#include "engine/lifecycle.h"
#include "engine/monitor_launch.h"
#include "engine/netns.h"
#include "engine/rootfs.h"
#include "engine/run_command.h"
#include "engine/user_lookup.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

bool contains(const std::string& s, std::string_view what) {
    return s.find(what) != std::string::npos;
}

// The layer directories of a record, top layer first (an overlay's lowerdir order).
Result<std::vector<std::string>> lower_dirs(image::ImageStore& images, const ContainerRecord& r) {
    std::vector<std::string> out;
    for (auto it = r.chain_ids.rbegin(); it != r.chain_ids.rend(); ++it) {
        image::Digest d = BERTH_TRY(image::Digest::parse(*it));
        if (!images.snapshots().has(d)) {
            return Error(ENOENT) << "layer snapshot " << *it << " of image `" << r.image_name
                                 << "` is missing (removed by image prune?)";
        }
        out.push_back(images.snapshots().dir(d));
    }
    return out;
}

// Sleeps until something in `dir` changes or timeout_ms passes (-1: a short poll when the
// directory cannot be watched).
void wait_for_change(const std::string& dir, int timeout_ms) {
    UniqueFd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (in && ::inotify_add_watch(in.get(), dir.c_str(),
                                  IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF) >= 0) {
        struct pollfd p = {in.get(), POLLIN, 0};
        ::poll(&p, 1, timeout_ms);
        return;
    }
    ::usleep(50'000);
}

}  // namespace

Result<void> check_restart_policy(const std::string& policy) {
    if (policy == "no" || policy == "always" || policy == "unless-stopped" ||
        policy == "on-failure") {
        return {};
    }
    if (policy.starts_with("on-failure:") && parse_number<unsigned>(policy.substr(11))) return {};
    return Error(EINVAL) << "invalid restart policy `" << policy
                         << "`: want no, on-failure[:N], always or unless-stopped";
}

int start_failure_exit_code(const std::string& runtime_message) {
    // What docker and podman look for in the runtime's message, ignoring case as podman does:
    // crun says "No such file or directory" (strerror), runc "no such file or directory". crun's
    // "open executable: Operation not permitted" (the command is a directory) is 126; other
    // EPERMs of the runtime stay its own failures (125).
    std::string message = runtime_message;
    for (char& ch : message) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (contains(message, "executable file not found") ||
        contains(message, "no such file or directory")) {
        return 127;
    }
    if (contains(message, "permission denied") || contains(message, "exec format error") ||
        contains(message, "not a directory") || contains(message, "is a directory") ||
        contains(message, "open executable")) {
        return 126;
    }
    return 125;
}

Result<Engine> Engine::open(const Paths& paths) {
    auto images = BERTH_TRY_CTX(image::ImageStore::open(paths.root),
                                "opening the image store in `" + paths.root + "`");
    auto containers = BERTH_TRY(ContainerStore::open(images.db()));
    return Engine(paths, std::move(images), containers);
}

Result<ContainerRecord> Engine::create(const CreateOptions& o, const image::ResolvedImage& img,
                                       const std::string& image_name) {
    network::ContainerNet net = BERTH_TRY(prepare_network(o, img.config));
    BERTH_TRY(check_restart_policy(o.restart));
    image::UnpackOptions unpack;
    unpack.same_owner = ::geteuid() == 0;
    auto layers = BERTH_TRY(images_.unpack(img, unpack));
    std::reverse(layers.begin(), layers.end());

    ContainerRecord r;
    r.id = BERTH_TRY(new_container_id());
    r.ns = paths_.ns;
    r.image_name = image_name;
    r.image_id = img.id().hex;
    for (const auto& c : img.chain_ids) r.chain_ids.push_back(c.str());
    r.created = now_rfc3339();
    r.labels = o.labels;
    r.restart_policy = o.restart;
    std::string stop_signal = !o.stop_signal.empty() ? o.stop_signal : img.config.stop_signal;
    if (stop_signal.empty()) stop_signal = "SIGTERM";
    auto sig = signal_from_string(stop_signal);
    if (!sig) return Error(EINVAL) << "invalid stop signal `" << stop_signal << "`";
    r.stop_signal = signal_name(*sig) ? signal_name(*sig) : std::to_string(*sig);
    if (o.stop_timeout < 0) return Error(EINVAL) << "--stop-timeout must not be negative";
    r.stop_timeout = o.stop_timeout;
    r.log_path = paths_.log_path(r.id);
    r.runtime =
        BERTH_TRY_CTX(find_helper(o.runtime.empty() ? "berth-runtime" : o.runtime), "--runtime");
    r.network = net.mode == "container" ? "container:" + net.container_id : o.network;
    r.auto_remove = o.auto_remove;

    std::string user_spec = o.user ? *o.user : img.config.user;
    ResolvedUser user = BERTH_TRY(resolve_user_in_layers(user_spec, layers));
    std::string hostname = container_hostname(o, r.id);
    SpecInputs in;
    in.image = &img.config;
    in.options = &o;
    in.id = r.id;
    in.cgroups_path = cgroup_path(r.ns, r.id);
    in.user = user;
    in.env = BERTH_TRY(merge_env(img.config, o, hostname, user.home));
    r.spec = BERTH_TRY(build_spec(in));

    BERTH_TRY(mkdir_p(paths_.state_dir(r.id), 0700));
    BERTH_TRY(mkdir_p(paths_.upper_dir(r.id), 0755));
    BERTH_TRY(mkdir_p(paths_.work_dir(r.id), 0700));
    auto undo = make_scope_guard([&] { (void)remove_all(paths_.state_dir(r.id)); });
    BERTH_TRY(network::save_container_net(paths_.state_dir(r.id), net));
    // A generated name may be taken: try others (docker retries too).
    for (int attempt = 0;; ++attempt) {
        r.name = o.name.empty() ? random_name(r.id) : o.name;
        if (o.name.empty() && attempt > 0) r.name += "_" + std::to_string(attempt);
        auto ins = containers_.insert(r);
        if (ins.ok()) break;
        if (!o.name.empty() || ins.error().errno_value() != EEXIST || attempt > 50) {
            return std::move(ins).error();
        }
    }
    undo.dismiss();
    return r;
}

Result<pid_t> Engine::start(const ContainerRecord& r, const StartAttach& attach) {
    std::string task_dir = paths_.task_dir(r.id);
    // Held until the monitor has written task.json: a look meanwhile must not take the task
    // for lost (lifecycle.h).
    ContainerLock lock = BERTH_TRY(lock_container(paths_, r.id));
    forget_task_started(paths_, r.id);
    // A previous run's task dir (the monitor is gone: callers checked) goes first.
    BERTH_TRY(remove_all(task_dir));
    if (path_exists(path_join(paths_.runtime_root(r.runtime), r.id))) {
        (void)runtime_delete(r.runtime, r.id);
    }
    auto lowers = BERTH_TRY(lower_dirs(images_, r));
    BERTH_TRY(mount_rootfs(lowers, paths_.upper_dir(r.id), paths_.work_dir(r.id),
                           paths_.rootfs_dir(r.id), r.auto_remove));

    OJson spec;
    try {
        spec = OJson::parse(r.spec);
    } catch (const std::exception& e) {
        return Error(EINVAL) << "container " << r.id << ": stored config.json: " << e.what();
    }
    // The netns (or another container's), CNI attachments, /etc/hosts and friends.
    BERTH_TRY(start_network(r, spec));
    auto network_undo = make_scope_guard([&] { release_network(r); });
    BERTH_TRY(write_file_atomic(path_join(paths_.bundle_dir(r.id), "config.json"),
                                spec.dump(1, '\t') + "\n", 0600));
    std::string runtime_root = paths_.runtime_root(r.runtime);
    BERTH_TRY(mkdir_p(runtime_root, 0700));
    // gc meets runtime state whose row is gone: it needs the binary, which a name alone does not
    // find when --runtime was a path outside berth's directory and $PATH.
    std::string runtime_path_file = runtime_root + ".path";
    if (auto known = read_file(runtime_path_file); !known.ok() || *known != r.runtime) {
        BERTH_TRY(write_file_atomic(runtime_path_file, r.runtime, 0600));
    }

    MonitorArgs a;
    a.monitor = BERTH_TRY(find_helper("berth-monitor"));
    a.runtime = r.runtime;
    a.runtime_root = runtime_root;
    a.bundle = paths_.bundle_dir(r.id);
    a.id = r.id;
    a.task_dir = task_dir;
    a.log_path = r.log_path;
    a.restart = r.restart_policy;
    a.stop_signal = r.stop_signal;
    a.stop_timeout = r.stop_timeout;
    // -t and -i, as create recorded them in config.json.
    const OJson& process = spec["process"];
    a.terminal = process.contains("terminal") && process["terminal"] == true;
    a.stdin_open = spec.contains("annotations") && spec["annotations"].contains(kStdinAnnotation) &&
                   spec["annotations"][kStdinAnnotation] == "true";
    a.attach_fd = attach.monitor_end;
    a.console_rows = attach.rows;
    a.console_cols = attach.cols;
    // --rm: the monitor has the container removed once the task is over, whoever is left.
    if (r.auto_remove) a.exit_command = BERTH_TRY(cleanup_command(paths_, r.id));
    if (!r.auto_remove && r.network != "host" && r.network != "none" &&
        !r.network.starts_with("container:")) {
        // CNI attachments go when the task is over for good: `container cleanup` without --rm.
        a.exit_command = BERTH_TRY(cleanup_command(paths_, r.id));
        std::erase(a.exit_command, std::string("--rm"));
    }
    pid_t pid = BERTH_TRY(launch_monitor(a));
    network_undo.dismiss();
    (void)note_task_started(paths_, r.id);  // fails only when a --rm cleanup was faster
    return pid;
}

Result<std::string> Engine::mount(const ContainerRecord& r) {
    auto lowers = BERTH_TRY(lower_dirs(images_, r));
    BERTH_TRY(mount_rootfs(lowers, paths_.upper_dir(r.id), paths_.work_dir(r.id),
                           paths_.rootfs_dir(r.id)));
    return paths_.rootfs_dir(r.id);
}

ContainerView Engine::view(ContainerRecord record) {
    ContainerView v;
    v.record = std::move(record);
    std::string task_dir = paths_.task_dir(v.record.id);
    auto task = read_task(task_dir);
    if (task.ok() && !*task) {
        // No task.json: never started, removed meanwhile, or its run root state was lost.
        auto now = containers_.find(v.record.ns, v.record.id);
        if (!now.ok() && now.error().errno_value() == ENOENT) {
            v.state = "removed";
            return v;
        }
        if (auto lost = recover_lost_task(v.record)) {
            *task = std::move(lost);
        } else {
            reap_unowned_task(v.record);  // what a killed create or monitor left
        }
    }
    if (!task.ok() || !*task) {
        v.state = "created";
        return v;
    }
    TaskInfo t = std::move(**task);
    if (!t.stopped() && !monitor_alive(t)) {
        // It may have just written its last state and exited: look once more.
        if (auto again = read_task(task_dir); again.ok() && *again) t = std::move(**again);
        if (!t.stopped() && !monitor_alive(t)) {
            // The monitor died: nobody reaps, logs or restarts the task any more. Kill what is
            // left (the init, then the runtime's state) and record monitor-lost.
            std::optional<int> code;
            if (process_alive(t.pid, t.pid_start_time)) {
                ::kill(t.pid, SIGKILL);
                code = 128 + SIGKILL;
            }
            (void)runtime_delete(v.record.runtime, v.record.id);
            (void)remove_container_cgroups(v.record.ns, v.record.id);
            if (auto w = write_monitor_lost(task_dir, t, code); !w.ok()) {
                log::warn(w.error().what());
            }
        }
    }
    if (t.status == "stopped") {
        v.state = "exited";
        sync_task_started(paths_, v.record.id, t);  // the exit status outlives a reboot
    } else if (t.status == "created") {
        v.state = "created";
    } else {
        v.state = t.status;  // running, restarting
    }
    v.task = std::move(t);
    return v;
}

Result<ContainerView> Engine::find(const std::string& ref) {
    return view(BERTH_TRY(containers_.find(paths_.ns, ref)));
}

Result<std::vector<ContainerView>> Engine::list() {
    std::vector<ContainerView> out;
    for (auto& r : BERTH_TRY(containers_.list(paths_.ns))) {
        ContainerView v = view(std::move(r));
        if (v.state != "removed") out.push_back(std::move(v));  // by its --rm exit command
    }
    return out;
}

Result<void> Engine::stop(const ContainerView& c, std::optional<int> timeout,
                          std::string* warning) {
    if (!c.running() && c.state != "created") {
        if (c.state == "exited") release_network(c.record);  // it ended on its own
        return {};
    }
    if (!c.task) return {};  // created, never started
    int t = timeout.value_or(c.record.stop_timeout);
    if (t < 0) t = 0;
    if (warning && t > 0 && c.task->pid > 0) {
        int sig = signal_from_string(c.record.stop_signal).value_or(SIGTERM);
        if (catches_signal(c.task->pid, sig) == false) {
            std::string comm;
            if (auto s = read_file("/proc/" + std::to_string(c.task->pid) + "/comm"); s.ok()) {
                comm = std::string(trim(*s));
            }
            *warning = "the container's PID 1 (" + comm + ") has no handler for " +
                       c.record.stop_signal +
                       ", which the kernel then drops for a namespace's init: it will be "
                       "killed with SIGKILL after " +
                       std::to_string(t) +
                       " s. Run it with --init (an init that forwards signals) or make it "
                       "handle " +
                       c.record.stop_signal;
        }
    }
    auto r = control_request(paths_.task_dir(c.record.id), "stop " + std::to_string(t));
    if (!r.ok()) {
        // The monitor went away meanwhile: reconciliation takes it from here.
        ContainerView now = view(c.record);
        if (!now.running()) return {};
        return std::move(r).error();
    }
    auto done = BERTH_TRY(wait(c.record, (t + 30) * 1000));
    if (done.running()) {
        return Error(ETIMEDOUT) << "container " << c.record.name << " did not stop";
    }
    release_network(c.record);  // the attachments live from start to stop
    return {};
}

Result<void> Engine::kill(const ContainerView& c, int signal) {
    if (!c.running()) {
        return Error(EINVAL) << "container " << c.record.name << " is not running";
    }
    BERTH_TRY(control_request(paths_.task_dir(c.record.id), "kill " + std::to_string(signal)));
    return {};
}

Result<ContainerView> Engine::wait(const ContainerRecord& record, int timeout_ms) {
    std::string task_dir = paths_.task_dir(record.id);
    uint64_t deadline = 0;
    auto now_ms = [] {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
    };
    if (timeout_ms >= 0) deadline = now_ms() + uint64_t(timeout_ms);
    for (;;) {
        ContainerView v = view(record);
        if (v.state == "removed") {
            // By a --rm exit command (or rm) meanwhile: the status it kept (exit_record.h).
            if (auto kept = find_exit_record(paths_, record.id)) {
                v.task = std::move(kept);
                v.state = "exited";
            }
            return v;
        }
        if (v.state == "exited") return v;
        if (deadline && now_ms() >= deadline) return v;
        // Wakes on every task.json rename; the timeout catches a monitor that dies silently.
        wait_for_change(task_dir, 250);
    }
}

Result<void> Engine::remove(const ContainerView& seen, bool force) {
    // rm, gc and a --rm exit command may remove the same container at once: one at a time, and
    // whoever comes second finds it gone, which is success.
    ContainerLock lock = BERTH_TRY(lock_container(paths_, seen.record.id));
    auto record = containers_.find(seen.record.ns, seen.record.id);
    if (!record.ok()) {
        if (record.error().errno_value() != ENOENT) return std::move(record).error();
        lock.container_gone();
        return {};
    }
    const ContainerView c = view(std::move(*record));
    if (c.running() || (c.state == "created" && c.task)) {
        if (!force) {
            return Error(EBUSY) << "cannot remove container " << c.record.id
                                << " as it is running - running or paused containers cannot be "
                                   "removed without force";
        }
        BERTH_TRY(stop(c, 0, nullptr));
    }
    return cleanup(c.record);
}

Result<void> Engine::runtime_delete(const std::string& runtime, const std::string& id) {
    std::vector<std::string> args = {runtime,  "--root",  paths_.runtime_root(runtime),
                                     "delete", "--force", id};
    CommandOutcome r = BERTH_TRY(run_command(std::move(args)));
    if (!r.succeeded()) return Error(EIO) << runtime << " delete --force " << id << " failed";
    return {};
}

Result<void> Engine::cleanup(const ContainerRecord& r) {
    ContainerLock lock = BERTH_TRY(lock_container(paths_, r.id));
    forget_task_started(paths_, r.id);  // first: see lifecycle.h
    if (path_exists(path_join(paths_.runtime_root(r.runtime), r.id))) {
        (void)runtime_delete(r.runtime, r.id);
    }
    (void)remove_container_cgroups(r.ns, r.id);  // and the /berth parents once empty
    BERTH_TRY(unmount_tree(paths_.bundle_dir(r.id)));
    release_network(r);  // CNI DEL and the netns
    BERTH_TRY(remove_all(paths_.bundle_dir(r.id)));
    keep_exit_record(paths_, r.id, r.name);  // for a `berth wait` that races the removal
    BERTH_TRY(remove_all(paths_.task_dir(r.id)));
    BERTH_TRY(remove_all(paths_.state_dir(r.id)));
    BERTH_TRY(containers_.remove(r.id));
    (void)::unlink(removal_hold_path(paths_, r.id).c_str());  // a killed `run --rm` left it
    lock.container_gone();
    return {};
}

}  // namespace berth::engine
