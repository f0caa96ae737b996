#include "engine/attach.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/file.h"
#include "base/scope_guard.h"
#include "engine/task_info.h"

namespace berth::engine {
namespace {

// Waits (up to 2 s) until the monitor has read every packet we sent: ctl.sock's close-stdin
// must not overtake stdin still queued on attach.sock.
void wait_consumed(BorrowedFd sock) {
    for (int i = 0; i < 200; ++i) {
        int queued = 0;
        if (::ioctl(sock.get(), SIOCOUTQ, &queued) < 0 || queued == 0) return;
        ::usleep(10'000);
    }
}

}  // namespace

Result<UniqueFd> connect_attach(const std::string& task_dir) {
    UniqueFd dir;
    std::string path = path_join(task_dir, "attach.sock");
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) {
        dir = BERTH_TRY(open_fd(task_dir, O_PATH | O_DIRECTORY));
        path = "/proc/self/fd/" + std::to_string(dir.get()) + "/attach.sock";
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!sock) return ErrnoError() << "socket";
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
        return ErrnoError() << "connect `" << path_join(task_dir, "attach.sock") << "`";
    }
    return sock;
}

Result<AttachEnd> attach_loop(BorrowedFd sock, bool forward_stdin, const std::string& task_dir,
                              bool close_stdin_at_eof) {
    sigset_t mask, old;
    sigemptyset(&mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, &old);
    auto restore = make_scope_guard([&] { ::sigprocmask(SIG_SETMASK, &old, nullptr); });
    UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd) return ErrnoError() << "signalfd";
    // A closed stdout (a pipe's reader gone) must not kill us: writes fail instead.
    struct sigaction ign = {}, old_pipe = {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe);
    auto restore_pipe = make_scope_guard([&] { ::sigaction(SIGPIPE, &old_pipe, nullptr); });

    bool stdin_open = forward_stdin;
    char buf[65536];
    for (;;) {
        struct pollfd fds[3] = {{sock.get(), POLLIN, 0},
                                {sfd.get(), POLLIN, 0},
                                {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "poll";
        }
        if (fds[1].revents & POLLIN) {
            // Consumed here, so that unblocking it again does not deliver it.
            struct signalfd_siginfo si;
            while (::read(sfd.get(), &si, sizeof(si)) == sizeof(si)) {
            }
            return AttachEnd::kDetached;
        }
        if (fds[0].revents & POLLIN) {
            ssize_t n = ::recv(sock.get(), buf, sizeof(buf), 0);
            if (n == 0) return AttachEnd::kHangup;
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                return AttachEnd::kHangup;
            }
            if (n > 1) {
                int out = buf[0] == 2 ? STDERR_FILENO : STDOUT_FILENO;
                (void)write_all(BorrowedFd(out), std::string_view(buf + 1, size_t(n - 1)));
            }
            continue;
        }
        if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) return AttachEnd::kHangup;
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
            if (n > 0) {
                if (::send(sock.get(), buf, size_t(n), MSG_NOSIGNAL) < 0) {
                    return AttachEnd::kHangup;
                }
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                stdin_open = false;
                if (close_stdin_at_eof) {
                    wait_consumed(sock);
                    (void)control_request(task_dir, "close-stdin");
                }
            }
        }
    }
}

}  // namespace berth::engine
