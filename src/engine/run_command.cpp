#include "engine/run_command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace berth::engine {

bool CommandOutcome::succeeded() const {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Result<CommandOutcome> run_command(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError() << "pipe";
    UniqueFd rd(fds[0]), wr(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError() << "fork";
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, 0);
            ::dup2(null, 1);
        }
        ::dup2(wr.get(), 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    wr.reset();
    CommandOutcome out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(rd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (out.error_text.size() < 65536) out.error_text.append(buf, size_t(n));
    }
    while (::waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
    }
    return out;
}

}  // namespace berth::engine
