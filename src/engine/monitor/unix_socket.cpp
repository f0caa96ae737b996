#include "engine/monitor/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "base/file.h"

namespace berth::monitor {

Result<UniqueFd> listen_unix(const std::string& path, int type) {
    UniqueFd sock(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!sock) return ErrnoError() << "socket for `" << path << "`";
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::string bind_path = path;
    UniqueFd dir;
    if (path.size() >= sizeof(addr.sun_path)) {
        const std::string parent = path_dirname(path);
        dir = BERTH_TRY(open_fd(parent, O_PATH | O_DIRECTORY));
        bind_path =
            "/proc/self/fd/" + std::to_string(dir.get()) + "/" + path.substr(path.rfind('/') + 1);
        if (bind_path.size() >= sizeof(addr.sun_path))
            return Error(ENAMETOOLONG) << "socket path `" << path << "`";
    }
    std::memcpy(addr.sun_path, bind_path.c_str(), bind_path.size() + 1);
    ::unlink(path.c_str());
    if (::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0)
        return ErrnoError() << "bind `" << path << "`";
    if (::listen(sock.get(), 16) != 0) return ErrnoError() << "listen `" << path << "`";
    return sock;
}

Result<UniqueFd> accept_unix(BorrowedFd listener) {
    int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return UniqueFd();
        return ErrnoError() << "accept";
    }
    return UniqueFd(fd);
}

}  // namespace berth::monitor
