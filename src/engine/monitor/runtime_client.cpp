#include "engine/monitor/runtime_client.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "init/reaper.h"

namespace berth::monitor {

std::string json_log_message(std::string_view line) {
    size_t at = line.find("\"msg\":\"");
    if (at == std::string_view::npos) return {};
    std::string out;
    for (size_t i = at + 7; i < line.size(); i++) {
        char c = line[i];
        if (c == '"') return out;
        if (c != '\\' || i + 1 >= line.size()) {
            out += c;
            continue;
        }
        char e = line[++i];
        switch (e) {
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case 'r':
                out += '\r';
                break;
            case 'u':  // \u00XX from json_escape: keep ASCII, drop the rest
                if (i + 4 < line.size()) {
                    unsigned v = parse_number<unsigned>(line.substr(i + 1, 4), 16).value_or(0);
                    if (v > 0 && v < 0x80) out += static_cast<char>(v);
                    i += 4;
                }
                break;
            default:
                out += e;
                break;
        }
    }
    return out;
}

Result<pid_t> RuntimeClient::spawn(const std::vector<std::string>& args, ChildStdio stdio) const {
    std::vector<std::string> full{runtime_};
    if (!root_.empty()) {
        full.push_back("--root");
        full.push_back(root_);
    }
    if (!log_path_.empty()) {
        full.push_back("--log");
        full.push_back(log_path_);
        full.push_back("--log-format");
        full.push_back("json");
    }
    full.insert(full.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);

    UniqueFd null_fd = BERTH_TRY(open_fd("/dev/null", O_RDWR));
    const int in = stdio.in >= 0 ? stdio.in : null_fd.get();
    const int out = stdio.out >= 0 ? stdio.out : null_fd.get();
    const int err = stdio.err >= 0 ? stdio.err : null_fd.get();

    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError() << "fork for `" << runtime_ << "`";
    if (pid == 0) {
        // Only async-signal-safe calls from here on. A runtime whose monitor is killed dies with
        // it, rather than finishing a create after `system gc` has looked for leftovers.
        const pid_t monitor = ::getppid();
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (::getppid() != monitor) ::_exit(126);
        if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
        if (saved_ != nullptr) init::restore_signals(*saved_);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

Result<void> RuntimeClient::wait(pid_t pid, const std::string& verb, size_t log_offset) const {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return ErrnoError() << "waitpid `" << runtime_ << " " << verb << "`";
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    Error e(EIO);
    e << runtime_ << " " << verb;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        e << ": cannot execute the runtime";
        return e;
    }
    if (WIFEXITED(status))
        e << " exited with status " << WEXITSTATUS(status);
    else
        e << " was killed by signal " << WTERMSIG(status);
    std::string msg = last_error(log_offset);
    if (!msg.empty()) e << ": " << msg;
    return e;
}

Result<void> RuntimeClient::run(const std::vector<std::string>& args) const {
    size_t offset = log_offset();
    pid_t pid = BERTH_TRY(spawn(args, {}));
    return wait(pid, args.empty() ? std::string() : args[0], offset);
}

size_t RuntimeClient::log_offset() const {
    struct stat st;
    if (log_path_.empty() || ::stat(log_path_.c_str(), &st) != 0) return 0;
    return static_cast<size_t>(st.st_size);
}

std::string RuntimeClient::last_error(size_t offset) const {
    if (log_path_.empty()) return {};
    auto text = read_file(log_path_);
    if (!text.ok() || offset >= text->size()) return {};
    std::string_view rest = std::string_view(*text).substr(offset);
    std::string found;
    while (!rest.empty()) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        if (line.find("\"level\":\"error\"") != std::string_view::npos ||
            line.find("\"level\":\"fatal\"") != std::string_view::npos) {
            std::string msg = json_log_message(line);
            if (!msg.empty()) found = std::move(msg);
        }
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
    return found;
}

}  // namespace berth::monitor
