#include "runtime/console.h"

#include "base/fd_passing.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace berth::runtime {

Result<UniqueFd> connect_console_socket(const std::string& path) {
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return ErrnoError() << "socket";
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path))
        return Error(ENAMETOOLONG) << "--console-socket: path too long: `" << path << "`";
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(s.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0)
        return ErrnoError() << "--console-socket: connect `" << path << "`";
    return s;
}

Result<void> send_fd(BorrowedFd socket, int fd, const std::string& name) {
    struct iovec iov {
        const_cast<char*>(name.data()), name.size()
    };
    auto r = send_with_fd(socket, &iov, 1, fd);
    if (!r) return std::move(r).error().wrap("send pty master on console socket");
    return {};
}

Result<UniqueFd> receive_fd(BorrowedFd socket) {
    char name[256];
    struct iovec iov {
        name, sizeof(name)
    };
    UniqueFd fd;
    auto r = receive_with_fd(socket, &iov, 1, &fd);
    if (!r) return std::move(r).error().wrap("receive pty master");
    if (!fd) return Error(EPROTO) << "no pty master received";
    return fd;
}

Result<void> setup_console(BorrowedFd socket, const std::optional<oci::ConsoleSize>& size) {
    UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) return ErrnoError() << "open /dev/ptmx";
    int unlock = 0;
    if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return ErrnoError() << "unlock pty";
    int n = 0;
    if (::ioctl(master.get(), TIOCGPTN, &n) < 0) return ErrnoError() << "get pty number";
    std::string slave_path = "/dev/pts/" + std::to_string(n);
    UniqueFd slave(::open(slave_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) return ErrnoError() << "open `" << slave_path << "`";
    if (size && size->height && size->width) {
        struct winsize ws {};
        ws.ws_row = static_cast<unsigned short>(size->height);
        ws.ws_col = static_cast<unsigned short>(size->width);
        ::ioctl(slave.get(), TIOCSWINSZ, &ws);
    }
    BERTH_TRY(send_fd(socket, master.get(), "/dev/ptmx"));
    master.reset();
    if (::setsid() < 0) return ErrnoError() << "setsid";
    if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0) return ErrnoError() << "set controlling terminal";
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(slave.get(), fd) < 0) return ErrnoError() << "dup2 pty slave";
    return {};
}

}  // namespace berth::runtime
