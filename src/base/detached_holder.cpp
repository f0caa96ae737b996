#include "base/detached_holder.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace berth {

namespace {

// The pipe whose EOF tells holders this process is gone: created once, the write end never
// closed (only this process's exit closes it). A child made by fork() must not keep it open, or
// our holders would wait for the child too: the atfork handler drops both ends there, and a
// child that spawns holders of its own makes its own pipe.
int lifeline_write = -1;
int lifeline_read = -1;

void drop_lifeline_in_child() {
    if (lifeline_write >= 0) ::close(lifeline_write);
    if (lifeline_read >= 0) ::close(lifeline_read);
    lifeline_write = lifeline_read = -1;
}

Result<void> ensure_lifeline() {
    if (lifeline_write >= 0) return {};
    static bool registered = false;
    if (!registered) {
        if (int e = ::pthread_atfork(nullptr, nullptr, drop_lifeline_in_child); e != 0)
            return Error(e) << "pthread_atfork";
        registered = true;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError() << "pipe for a detached holder";
    lifeline_read = fds[0];
    lifeline_write = fds[1];
    return {};
}

// In the holder: everything but sockets and the two descriptors it uses goes.
void close_all_but_sockets(int keep_a, int keep_b) {
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return;
    int dir_fd = ::dirfd(dir);
    while (dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        long fd = std::strtol(e->d_name, &end, 10);
        if (*end != '\0' || end == e->d_name || fd <= 2) continue;
        if (fd == dir_fd || fd == keep_a || fd == keep_b) continue;
        struct stat st;
        if (::fstat(static_cast<int>(fd), &st) == 0 && S_ISSOCK(st.st_mode)) continue;
        ::close(static_cast<int>(fd));
    }
    ::closedir(dir);
}

[[noreturn]] void run_holder(const std::function<int()>& work, int status_fd, int wait_fd) {
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        for (int i = 0; i < 3; ++i) ::dup2(null_fd, i);
        if (null_fd > 2) ::close(null_fd);
    }
    close_all_but_sockets(status_fd, wait_fd);
    ::prctl(PR_SET_NAME, "berth-reclaim", 0, 0, 0);
    int result = work ? work() : 0;
    (void)::send(status_fd, &result, sizeof(result), MSG_NOSIGNAL);
    ::close(status_fd);
    char byte;
    while (::read(wait_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
}

}  // namespace

Result<UniqueFd> spawn_detached_holder(const std::function<int()>& work) {
    BERTH_TRY(ensure_lifeline());
    auto pair = BERTH_TRY(make_socketpair(SOCK_SEQPACKET));
    // The holder's own copy of the lifeline's read end: fork() drops the shared one in children.
    UniqueFd wait_fd(::fcntl(lifeline_read, F_DUPFD_CLOEXEC, 3));
    if (!wait_fd) return ErrnoError() << "dup the lifeline of a detached holder";
    pid_t middle = ::fork();
    if (middle < 0) return ErrnoError() << "fork a detached holder";
    if (middle == 0) {
        // The middle process exits at once, so the holder is nobody's child here and the
        // caller never reaps it.
        pair.first.reset();
        pid_t holder = ::fork();
        if (holder == 0) run_holder(work, pair.second.get(), wait_fd.get());
        ::_exit(holder < 0 ? 1 : 0);
    }
    int status = 0;
    while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Error(EAGAIN) << "fork a detached holder";
    return std::move(pair.first);
}

}  // namespace berth
