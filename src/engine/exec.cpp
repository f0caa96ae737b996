#include "engine/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/scope_guard.h"
#include "base/strings.h"
#include "base/syscalls.h"
#include "base/unique_fd.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

Result<void> check_running(const ContainerView& c) {
    if (!c.running() || !c.task || c.task->pid <= 0) {
        return Error(EINVAL) << "container " << c.record.name << " is not running (state "
                             << c.state << ")";
    }
    return {};
}

std::string env_key(const std::string& kv) {
    return kv.substr(0, kv.find('='));
}

// Replaces or appends K=V in env, keeping the order of first appearance.
void set_env(std::vector<std::string>& env, const std::string& kv) {
    std::string key = env_key(kv);
    for (auto& e : env) {
        if (env_key(e) == key) {
            e = kv;
            return;
        }
    }
    env.push_back(kv);
}

// The runtime's argv: global flags, the verb's args.
std::vector<std::string> runtime_argv(const Paths& paths, const ContainerRecord& r,
                                      const std::string& log_path,
                                      const std::vector<std::string>& args) {
    std::vector<std::string> argv = {r.runtime, "--root", paths.runtime_root(r.runtime)};
    if (!log_path.empty()) {
        argv.insert(argv.end(), {"--log", log_path, "--log-format", "json"});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// The "msg" of the last error-level line of a runtime's JSON log; empty when none.
std::string last_log_error(const std::string& log_path) {
    auto text = read_file(log_path);
    if (!text.ok()) return "";
    std::string msg;
    for (auto line : split(*text, '\n')) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_object()) continue;
        auto level = j.find("level");
        auto m = j.find("msg");
        if (level != j.end() && level->is_string() && *level == "error" && m != j.end() &&
            m->is_string()) {
            msg = m->get<std::string>();
        }
    }
    return msg;
}

// Forks the runtime with stdin (or /dev/null when in < 0) and berth's stdout/stderr; the
// child gets the unblocked signal mask `child_mask`.
Result<pid_t> spawn(const std::vector<std::string>& args, bool inherit_stdin, bool quiet,
                    const sigset_t& child_mask) {
    std::vector<char*> argv;
    for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError() << "fork";
    if (pid == 0) {
        ::sigprocmask(SIG_SETMASK, &child_mask, nullptr);
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            if (!inherit_stdin) ::dup2(null, 0);
            if (quiet) {
                ::dup2(null, 1);
                ::dup2(null, 2);
            }
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

int shell_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 125;
}

// Waits for pid, passing on the signals in `mask` that berth receives meanwhile.
Result<int> wait_forwarding(pid_t pid, const sigset_t& mask) {
    UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    UniqueFd pidfd(sys::pidfd_open(pid));
    while (sfd && pidfd) {
        struct pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
        int n = ::poll(fds, 2, -1);
        if (n < 0 && errno != EINTR) break;
        if (fds[0].revents) break;
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (::read(sfd.get(), &si, sizeof(si)) == sizeof(si)) {
                ::kill(pid, int(si.ssi_signo));
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return ErrnoError() << "waitpid";
    }
    return shell_status(status);
}

// Runs a runtime verb with stdio on /dev/null; its logged error on failure.
Result<void> run_verb(const Paths& paths, const ContainerRecord& r, const std::string& verb) {
    std::string log_path =
        path_join(paths.task_dir(r.id), verb + "-" + std::to_string(::getpid()) + ".log");
    auto remove_log = make_scope_guard([&] { ::unlink(log_path.c_str()); });
    sigset_t none;
    sigemptyset(&none);
    pid_t pid = BERTH_TRY(spawn(runtime_argv(paths, r, log_path, {verb, r.id}), false, true, none));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return ErrnoError() << "waitpid";
    }
    if (shell_status(status) != 0) {
        std::string msg = last_log_error(log_path);
        return Error(EIO) << r.runtime << " " << verb << " " << r.name << ": "
                          << (msg.empty()
                                  ? "exited with status " + std::to_string(shell_status(status))
                                  : msg);
    }
    return {};
}

// The directory of the container's cgroup for a v1 controller, or the unified one.
std::optional<std::string> cgroup_dir(pid_t pid, const std::string& controller) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text.ok()) return std::nullopt;
    std::optional<std::string> unified;
    for (auto line : split(*text, '\n')) {
        std::string l(line);
        size_t a = l.find(':');
        size_t b = a == std::string::npos ? a : l.find(':', a + 1);
        if (b == std::string::npos) continue;
        std::string ctrls = l.substr(a + 1, b - a - 1);
        std::string path = l.substr(b + 1);
        if (ctrls.empty()) {
            unified = path;
            continue;
        }
        for (auto c : split(ctrls, ',')) {
            if (c == controller) return "/sys/fs/cgroup/" + controller + path;
        }
    }
    if (!unified) return std::nullopt;
    if (path_exists("/sys/fs/cgroup/cgroup.controllers")) return "/sys/fs/cgroup" + *unified;
    return "/sys/fs/cgroup/unified" + *unified;
}

// "[DD-]HH:MM:SS" from clock ticks, like ps's TIME.
std::string cpu_time(uint64_t ticks) {
    long hz = ::sysconf(_SC_CLK_TCK);
    uint64_t s = ticks / uint64_t(hz > 0 ? hz : 100);
    char buf[64];
    uint64_t days = s / 86400;
    if (days) {
        snprintf(buf, sizeof(buf), "%llu-%02llu:%02llu:%02llu", (unsigned long long)days,
                 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
                 (unsigned long long)(s % 60));
    } else {
        snprintf(buf, sizeof(buf), "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
    }
    return buf;
}

// uid -> name from the container's /etc/passwd text.
std::map<uint32_t, std::string> passwd_names(const std::string& passwd) {
    std::map<uint32_t, std::string> out;
    for (auto line : split(passwd, '\n')) {
        auto f = split(line, ':');
        if (f.size() < 3) continue;
        if (auto uid = parse_number<uint32_t>(f[2])) out.emplace(*uid, std::string(f[0]));
    }
    return out;
}

}  // namespace

Result<std::string> exec_process_json(const std::string& spec_json, const ExecOptions& o,
                                      const std::optional<ResolvedUser>& user) {
    if (o.command.empty()) return Error(EINVAL) << "exec: no command given";
    OJson process;
    try {
        auto spec = OJson::parse(spec_json);
        if (spec.contains("process")) process = spec["process"];
    } catch (const std::exception& e) {
        return Error(EINVAL) << "stored config.json: " << e.what();
    }
    if (!process.is_object()) process = OJson::object();
    process["args"] = o.command;
    process["terminal"] = o.tty;
    process.erase("consoleSize");
    std::vector<std::string> env;
    if (process.contains("env") && process["env"].is_array()) {
        for (const auto& e : process["env"]) {
            if (e.is_string()) env.push_back(e.get<std::string>());
        }
    }
    if (user) {
        OJson u = OJson::object();
        u["uid"] = user->uid;
        u["gid"] = user->gid;
        if (!user->additional_gids.empty()) u["additionalGids"] = user->additional_gids;
        process["user"] = u;
        set_env(env, "HOME=" + (user->home.empty() ? std::string("/") : user->home));
    }
    for (const auto& e : o.env) {
        if (e.empty() || e.front() == '=') return Error(EINVAL) << "invalid env `" << e << "`";
        if (e.find('=') != std::string::npos) {
            set_env(env, e);
        } else if (const char* v = ::getenv(e.c_str())) {
            set_env(env, e + "=" + v);
        }
    }
    if (o.tty && std::none_of(env.begin(), env.end(),
                              [](const std::string& e) { return env_key(e) == "TERM"; })) {
        env.push_back("TERM=xterm");
    }
    process["env"] = env;
    if (!o.workdir.empty()) {
        if (o.workdir.front() != '/') {
            return Error(EINVAL) << "-w `" << o.workdir << "`: must be an absolute path";
        }
        process["cwd"] = o.workdir;
    }
    if (!process.contains("cwd")) process["cwd"] = "/";
    return process.dump();
}

Result<ExecOutcome> exec_in_container(const Paths& paths, const ContainerView& c,
                                      const ExecOptions& o) {
    BERTH_TRY(check_running(c));
    const ContainerRecord& r = c.record;
    if (o.detach && o.tty) return Error(EINVAL) << "exec: -d with -t is not supported";
    if (container_frozen(c) == true) {
        return Error(EINVAL) << "container " << r.name << " is paused: unpause it first";
    }
    std::optional<ResolvedUser> user;
    if (o.user) {
        user = BERTH_TRY_CTX(resolve_user_in_layers(*o.user, {paths.rootfs_dir(r.id)}),
                             "-u " + *o.user);
    }
    std::string json = BERTH_TRY(exec_process_json(r.spec, o, user));
    std::string base = path_join(paths.task_dir(r.id), "exec-" + std::to_string(::getpid()) + "-" +
                                                           std::to_string(::time(nullptr)));
    std::string process_path = base + ".json";
    std::string log_path = base + ".log";
    auto remove_files = make_scope_guard([&] {
        ::unlink(process_path.c_str());
        ::unlink(log_path.c_str());
    });
    BERTH_TRY(write_file_atomic(process_path, json, 0600));

    std::vector<std::string> args = {"exec", "-p", process_path};
    if (o.detach) args.push_back("-d");
    args.push_back(r.id);

    // Block what we pass on; the child gets the mask back before exec.
    sigset_t mask, old;
    sigemptyset(&mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, &old);
    auto restore = make_scope_guard([&] { ::sigprocmask(SIG_SETMASK, &old, nullptr); });
    bool with_stdin = (o.interactive || o.tty) && !o.detach;
    pid_t pid = BERTH_TRY(spawn(runtime_argv(paths, r, log_path, args), with_stdin, o.detach, old));
    int code = BERTH_TRY(wait_forwarding(pid, mask));

    ExecOutcome out;
    out.exit_code = code;
    if (code != 0) {
        // A process's own status, unless the runtime logged a failure of its own.
        std::string msg = last_log_error(log_path);
        if (!msg.empty()) {
            out.runtime_error = msg;
            out.exit_code = start_failure_exit_code(msg);
        }
    }
    return out;
}

Result<void> pause_container(const Paths& paths, const ContainerView& c) {
    BERTH_TRY(check_running(c));
    return run_verb(paths, c.record, "pause");
}

Result<void> resume_container(const Paths& paths, const ContainerView& c) {
    BERTH_TRY(check_running(c));
    return run_verb(paths, c.record, "resume");
}

std::optional<bool> container_frozen(const ContainerView& c) {
    if (!c.task || c.task->pid <= 0) return std::nullopt;
    if (auto dir = cgroup_dir(c.task->pid, "freezer");
        dir && dir->starts_with("/sys/fs/cgroup/freezer")) {
        auto s = read_file(*dir + "/freezer.state");
        if (!s.ok()) return std::nullopt;
        return trim(*s) != "THAWED";
    }
    if (auto dir = cgroup_dir(c.task->pid, "")) {
        auto s = read_file(*dir + "/cgroup.events");
        if (!s.ok()) return std::nullopt;
        return s->find("frozen 1") != std::string::npos;
    }
    return std::nullopt;
}

Result<std::vector<ProcessRow>> container_processes(const Paths& paths, const ContainerView& c) {
    BERTH_TRY(check_running(c));
    auto dir = cgroup_dir(c.task->pid, "pids");
    if (!dir) return Error(ENOENT) << "no cgroup found for pid " << c.task->pid;
    auto procs = BERTH_TRY(read_file(*dir + "/cgroup.procs"));
    std::map<uint32_t, std::string> names;
    if (auto p = read_file(path_join(paths.rootfs_dir(c.record.id), "etc/passwd")); p.ok()) {
        names = passwd_names(*p);
    }
    std::vector<ProcessRow> rows;
    for (auto line : split(procs, '\n')) {
        auto pid = parse_number<pid_t>(trim(line));
        if (!pid) continue;
        std::string proc = "/proc/" + std::to_string(*pid);
        auto stat = read_file(proc + "/stat");
        auto status = read_file(proc + "/status");
        if (!stat.ok() || !status.ok()) continue;  // gone meanwhile
        ProcessRow row;
        row.pid = *pid;
        // Fields after the ")" of comm: state is field 3, utime 14, stime 15.
        size_t close = stat->rfind(')');
        auto f = split(std::string_view(*stat).substr(close + 2), ' ');
        if (f.size() > 12) {
            row.time = cpu_time(parse_number<uint64_t>(f[11]).value_or(0) +
                                parse_number<uint64_t>(f[12]).value_or(0));
        }
        for (auto l : split(*status, '\n')) {
            if (l.starts_with("Uid:")) {
                auto uid_text = split(trim(l.substr(4)), '\t');
                auto uid = parse_number<uint32_t>(trim(uid_text.empty() ? "" : uid_text[0]));
                if (uid) row.user = names.count(*uid) ? names[*uid] : std::to_string(*uid);
            }
        }
        if (auto cmd = read_file(proc + "/cmdline"); cmd.ok() && !cmd->empty()) {
            std::string s = *cmd;
            while (!s.empty() && s.back() == '\0') s.pop_back();
            std::replace(s.begin(), s.end(), '\0', ' ');
            row.command = s;
        } else {
            size_t open = stat->find('(');
            row.command = "[" + stat->substr(open + 1, close - open - 1) + "]";
        }
        rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(),
              [](const ProcessRow& a, const ProcessRow& b) { return a.pid < b.pid; });
    return rows;
}

}  // namespace berth::engine
