#include "engine/monitor_launch.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {

Result<std::string> find_helper(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), X_OK) != 0) return ErrnoError() << "`" << name << "`";
        if (name.front() == '/') return name;
        char cwd[4096];
        if (!::getcwd(cwd, sizeof(cwd))) return ErrnoError() << "getcwd";
        return path_clean(path_join(cwd, name));
    }
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        std::string candidate = path_join(path_dirname(self), name);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    const char* path = ::getenv("PATH");
    for (const auto& dir :
         split(path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", ':')) {
        if (dir.empty()) continue;
        std::string candidate = path_join(dir, name);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return Error(ENOENT) << "`" << name << "` not found next to berth or in $PATH";
}

Result<pid_t> launch_monitor(const MonitorArgs& a) {
    BERTH_TRY(mkdir_p(a.task_dir, 0700));
    std::vector<std::string> argv = {a.monitor,
                                     "--runtime",
                                     a.runtime,
                                     "--runtime-root",
                                     a.runtime_root,
                                     "--bundle",
                                     a.bundle,
                                     "--id",
                                     a.id,
                                     "--task-dir",
                                     a.task_dir,
                                     "--log-path",
                                     a.log_path,
                                     "--restart",
                                     a.restart,
                                     "--stop-signal",
                                     a.stop_signal,
                                     "--stop-timeout",
                                     std::to_string(a.stop_timeout),
                                     "--ready-fd",
                                     "3"};
    if (!a.exit_command.empty()) {
        argv.insert(argv.end(), {"--exit-command", a.exit_command.front()});
        for (size_t i = 1; i < a.exit_command.size(); i++) {
            argv.insert(argv.end(), {"--exit-command-arg", a.exit_command[i]});
        }
    }
    if (a.terminal) argv.push_back("--terminal");
    if (a.stdin_open) argv.push_back("--stdin");
    if (a.attach_fd >= 0) {
        argv.push_back("--attach-fd");
        argv.push_back("4");
    }
    if (a.terminal && a.console_rows > 0 && a.console_cols > 0) {
        argv.push_back("--console-size");
        argv.push_back(std::to_string(a.console_rows) + "x" + std::to_string(a.console_cols));
    }
    std::vector<char*> cargv;
    for (auto& s : argv) cargv.push_back(s.data());
    cargv.push_back(nullptr);

    FdPair ready = BERTH_TRY(make_pipe());
    // The monitor's own messages before it detaches (bad options): kept next to its log.
    UniqueFd err = BERTH_TRY(open_fd(path_join(a.task_dir, "monitor.stderr"),
                                     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd null = BERTH_TRY(open_fd("/dev/null", O_RDWR | O_CLOEXEC));
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError() << "fork";
    if (pid == 0) {
        // Only what the monitor must have: stdio, the ready pipe as fd 3, the attach socket as
        // fd 4 (moved out of the way first: it may be 3 itself).
        int attach = a.attach_fd >= 0 ? ::fcntl(a.attach_fd, F_DUPFD_CLOEXEC, 10) : -1;
        if (::dup2(null.get(), 0) < 0 || ::dup2(null.get(), 1) < 0 || ::dup2(err.get(), 2) < 0 ||
            ::dup2(ready.second.get(), 3) < 0 || (a.attach_fd >= 0 && ::dup2(attach, 4) < 0)) {
            ::_exit(127);
        }
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    ready.second.reset();
    std::string line;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(ready.first.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        line.append(buf, size_t(n));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("pid") && j["pid"].is_number_integer()) {
        return j["pid"].get<pid_t>();
    }
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
        return Error(EIO) << j["error"].get<std::string>();
    }
    std::string detail;
    if (auto t = read_file(path_join(a.task_dir, "monitor.stderr")); t.ok()) {
        detail = std::string(trim(*t));
    }
    return Error(EIO) << "berth-monitor (" << a.monitor << ") gave no ready message"
                      << (WIFEXITED(status) ? ", exit status " + std::to_string(WEXITSTATUS(status))
                                            : std::string())
                      << (detail.empty() ? "" : ": " + detail);
}

}  // namespace berth::engine
