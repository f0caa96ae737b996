#include "engine/engine.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "base/signals.h"
#include "base/strings.h"
#include "engine/monitor_launch.h"
#include "engine/netns.h"
#include "engine/rootfs.h"
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

int start_failure_exit_code(const std::string& message) {
    // What docker and podman look for in the runtime's message.
    if (contains(message, "executable file not found") ||
        contains(message, "no such file or directory")) {
        return 127;
    }
    if (contains(message, "permission denied") || contains(message, "exec format error") ||
        contains(message, "not a directory") || contains(message, "is a directory")) {
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
    if (o.network != "none" && o.network != "host") {
        return Error(EINVAL) << "--network `" << o.network
                             << "`: only `none` and `host` are supported so far";
    }
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
    r.network = o.network;
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

Result<pid_t> Engine::start(const ContainerRecord& r) {
    std::string task_dir = paths_.task_dir(r.id);
    // A previous run's task dir (the monitor is gone: callers checked) goes first.
    BERTH_TRY(remove_all(task_dir));
    if (path_exists(path_join(paths_.runtime_root(r.runtime), r.id))) {
        (void)runtime_delete(r.runtime, r.id);
    }
    auto lowers = BERTH_TRY(lower_dirs(images_, r));
    BERTH_TRY(mount_rootfs(lowers, paths_.upper_dir(r.id), paths_.work_dir(r.id),
                           paths_.rootfs_dir(r.id)));

    OJson spec;
    try {
        spec = OJson::parse(r.spec);
    } catch (const std::exception& e) {
        return Error(EINVAL) << "container " << r.id << ": stored config.json: " << e.what();
    }
    if (r.network == "none") {
        std::string netns = paths_.netns_path(r.id);
        BERTH_TRY(create_netns(netns));
        for (auto& ns : spec["linux"]["namespaces"]) {
            if (ns["type"] == "network") ns["path"] = netns;
        }
    }
    BERTH_TRY(write_file_atomic(path_join(paths_.bundle_dir(r.id), "config.json"),
                                spec.dump(1, '\t') + "\n", 0600));
    std::string runtime_root = paths_.runtime_root(r.runtime);
    BERTH_TRY(mkdir_p(runtime_root, 0700));

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
    return launch_monitor(a);
}

ContainerView Engine::view(ContainerRecord record) {
    ContainerView v;
    v.record = std::move(record);
    std::string task_dir = paths_.task_dir(v.record.id);
    auto task = read_task(task_dir);
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
            if (auto w = write_monitor_lost(task_dir, t, code); !w.ok()) {
                log::warn(w.error().what());
            }
        }
    }
    if (t.status == "stopped") {
        v.state = "exited";
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
    for (auto& r : BERTH_TRY(containers_.list(paths_.ns))) out.push_back(view(std::move(r)));
    return out;
}

Result<void> Engine::stop(const ContainerView& c, std::optional<int> timeout,
                          std::string* warning) {
    if (!c.running() && c.state != "created") return {};
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
        if (v.state == "exited") return v;
        if (deadline && now_ms() >= deadline) return v;
        // Wakes on every task.json rename; the timeout catches a monitor that dies silently.
        wait_for_change(task_dir, 250);
    }
}

Result<void> Engine::remove(const ContainerView& c, bool force) {
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
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError() << "fork";
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, 0);
            ::dup2(null, 1);
            ::dup2(null, 2);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return Error(EIO) << runtime << " delete --force " << id << " failed";
    }
    return {};
}

Result<void> Engine::cleanup(const ContainerRecord& r) {
    if (path_exists(path_join(paths_.runtime_root(r.runtime), r.id))) {
        (void)runtime_delete(r.runtime, r.id);
    }
    BERTH_TRY(unmount_tree(paths_.bundle_dir(r.id)));
    if (r.network == "none") BERTH_TRY(remove_netns(paths_.netns_path(r.id)));
    BERTH_TRY(remove_all(paths_.bundle_dir(r.id)));
    BERTH_TRY(remove_all(paths_.task_dir(r.id)));
    BERTH_TRY(remove_all(paths_.state_dir(r.id)));
    return containers_.remove(r.id);
}

}  // namespace berth::engine
