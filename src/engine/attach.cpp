#include "engine/attach.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "base/file.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "engine/detach_keys.h"
#include "engine/task_info.h"
#include "engine/terminal.h"

namespace berth::engine {
namespace {

// Our window size to the container's pty; a failure (no pty, monitor gone) changes nothing.
void send_window_size(const std::string& task_dir) {
    auto size = window_size(STDOUT_FILENO);
    if (!size) size = window_size(STDIN_FILENO);
    if (!size) return;
    (void)control_request(
        task_dir, "resize " + std::to_string(size->rows) + " " + std::to_string(size->cols));
}

// Sends what the socket takes of `pending` (packets the monitor reads whole); false when the
// monitor is gone.
bool send_pending(BorrowedFd sock, std::string& pending) {
    size_t sent = 0;
    while (sent < pending.size()) {
        size_t len = std::min(pending.size() - sent, kMaxInputPacket);
        ssize_t n = ::send(sock.get(), pending.data() + sent, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) return false;
        sent += size_t(n);
    }
    pending.erase(0, sent);
    return true;
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

Result<FdPair> attach_socketpair() {
    return make_socketpair(SOCK_SEQPACKET);
}

Result<AttachEnd> attach_session(BorrowedFd sock, const AttachOptions& o) {
    const bool stdin_tty = o.forward_stdin && ::isatty(STDIN_FILENO);
    const bool follow_size =
        o.tty && (window_size(STDOUT_FILENO).has_value() || window_size(STDIN_FILENO).has_value());
    sigset_t mask, old;
    sigemptyset(&mask);
    // All four taken by signalfd: none may end us with our terminal left raw.
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&mask, s);
    if (follow_size) sigaddset(&mask, SIGWINCH);
    ::sigprocmask(SIG_BLOCK, &mask, &old);
    auto restore = make_scope_guard([&] { ::sigprocmask(SIG_SETMASK, &old, nullptr); });
    UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd) return ErrnoError() << "signalfd";
    // A closed stdout (a pipe's reader gone) must not kill us: writes fail instead.
    struct sigaction ign = {}, old_pipe = {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe);
    auto restore_pipe = make_scope_guard([&] { ::sigaction(SIGPIPE, &old_pipe, nullptr); });
    // Declared after the guards: restored first, whichever way we leave.
    std::optional<RawTerminal> raw;
    if (o.tty && stdin_tty) raw.emplace(BERTH_TRY(RawTerminal::enter(STDIN_FILENO)));
    if (follow_size && o.send_initial_size) send_window_size(o.task_dir);

    // Detach keys are something a person types: piped input passes untouched.
    DetachKeyMatcher keys(stdin_tty ? o.detach_keys : std::string());
    bool stdin_open = o.forward_stdin;
    bool eof_pending = false;  // our stdin ended: half-close once `pending` is sent
    std::string pending;       // input the socket has not taken yet
    std::string input;
    char buf[65536];
    for (;;) {
        short sock_events = POLLIN;
        if (!pending.empty()) sock_events |= POLLOUT;
        struct pollfd fds[3] = {{sock.get(), sock_events, 0},
                                {sfd.get(), POLLIN, 0},
                                {stdin_open && pending.empty() ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "poll";
        }
        if (fds[1].revents & POLLIN) {
            // Consumed here, so that unblocking them again does not deliver them.
            struct signalfd_siginfo si;
            while (::read(sfd.get(), &si, sizeof(si)) == sizeof(si)) {
                int sig = int(si.ssi_signo);
                if (sig == SIGWINCH) {
                    send_window_size(o.task_dir);
                } else if (o.proxy_signals) {
                    auto sent = control_request(o.task_dir, "kill " + std::to_string(sig));
                    if (!sent)
                        log::warn("passing signal " + std::to_string(sig) +
                                  " to the container: " + sent.error().what());
                } else {
                    return AttachEnd::kDetached;
                }
            }
        }
        if (fds[0].revents & POLLIN) {
            ssize_t n = ::recv(sock.get(), buf, sizeof(buf), 0);
            if (n == 0) return AttachEnd::kHangup;
            if (n < 0 && errno != EINTR && errno != EAGAIN) return AttachEnd::kHangup;
            if (n > 1) {
                int out = buf[0] == 2 ? STDERR_FILENO : STDOUT_FILENO;
                (void)write_all(BorrowedFd(out), std::string_view(buf + 1, size_t(n - 1)));
            }
        } else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            return AttachEnd::kHangup;  // after the last of the output
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(STDIN_FILENO, buf, kMaxInputPacket);
            if (n > 0) {
                input.clear();
                if (keys.feed(std::string_view(buf, size_t(n)), input)) {
                    return AttachEnd::kDetached;
                }
                pending += input;
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                stdin_open = false;
                pending += keys.pending();  // half a sequence was input after all
                eof_pending = o.close_stdin_at_eof;
            }
        }
        if (!pending.empty() && !send_pending(sock, pending)) return AttachEnd::kHangup;
        if (eof_pending && pending.empty()) {
            // In order behind the input: the monitor closes the container's stdin once it
            // has written everything before it.
            ::shutdown(sock.get(), SHUT_WR);
            eof_pending = false;
        }
    }
}

Result<AttachEnd> attach_loop(BorrowedFd sock, bool forward_stdin, const std::string& task_dir,
                              bool close_stdin_at_eof) {
    AttachOptions o;
    o.task_dir = task_dir;
    o.forward_stdin = forward_stdin;
    o.close_stdin_at_eof = close_stdin_at_eof;
    return attach_session(sock, o);
}

}  // namespace berth::engine
