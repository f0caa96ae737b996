#include "runtime/tty_proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "base/file.h"
#include "base/scope_guard.h"
#include "runtime/console.h"

namespace berth::runtime {

Result<ConsoleListener> ConsoleListener::create(const std::string& path) {
    ConsoleListener l;
    l.sock_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!l.sock_) return ErrnoError() << "socket";
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    l.connect_path_ = path;
    if (path.size() >= sizeof(addr.sun_path)) {
        std::string name = path.substr(path.rfind('/') + 1);
        l.dir_ = BERTH_TRY(open_fd(path_dirname(path), O_PATH | O_DIRECTORY | O_CLOEXEC));
        l.connect_path_ = "/proc/self/fd/" + std::to_string(l.dir_.get()) + "/" + name;
        if (l.connect_path_.size() >= sizeof(addr.sun_path))
            return Error(ENAMETOOLONG) << "console socket name `" << name << "`";
    }
    std::memcpy(addr.sun_path, l.connect_path_.c_str(), l.connect_path_.size() + 1);
    ::unlink(path.c_str());
    if (::bind(l.sock_.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0)
        return ErrnoError() << "bind `" << path << "`";
    l.path_ = path;
    if (::listen(l.sock_.get(), 1) < 0) return ErrnoError() << "listen `" << path << "`";
    return l;
}

ConsoleListener::~ConsoleListener() {
    if (!path_.empty() && sock_) ::unlink(path_.c_str());
}

Result<UniqueFd> ConsoleListener::receive_master() {
    UniqueFd conn(::accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return ErrnoError() << "accept on console socket";
    return receive_fd(conn);
}

Result<void> proxy_tty(BorrowedFd master, BorrowedFd pidfd) {
    struct termios saved;
    bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        cfmakeraw(&t);
        ::tcsetattr(0, TCSANOW, &t);
        struct winsize ws;
        if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master.get(), TIOCSWINSZ, &ws);
    }
    auto restore = make_scope_guard([&] {
        if (raw) ::tcsetattr(0, TCSANOW, &saved);
    });
    bool stdin_open = true, exited = false;
    char buf[8192];
    for (;;) {
        struct pollfd fds[3] = {
            {master.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}, {0, POLLIN, 0}};
        int n = ::poll(fds, stdin_open ? 3 : 2, exited ? 50 : -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "poll";
        }
        if (n == 0 && exited) return {};  // drained
        if (fds[0].revents & POLLIN) {
            ssize_t r = ::read(master.get(), buf, sizeof(buf));
            if (r > 0) {
                (void)write_all(1, std::string_view(buf, static_cast<size_t>(r)));
                continue;
            }
            if (exited) return {};
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            if (exited) return {};
        }
        if (fds[1].revents & POLLIN) exited = true;
        if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP))) {
            ssize_t r = ::read(0, buf, sizeof(buf));
            if (r <= 0) {
                stdin_open = false;
                // End of input: pass an EOF character on, as a terminal would.
                char eof = 4;
                (void)::write(master.get(), &eof, 1);
            } else {
                (void)write_all(master, std::string_view(buf, static_cast<size_t>(r)));
            }
        }
    }
}

}  // namespace berth::runtime
