#include "base/unique_fd.h"

#include <fcntl.h>
#include <sys/socket.h>

namespace berth {

Result<FdPair> make_pipe(int flags) {
    int fds[2];
    if (pipe2(fds, flags | O_CLOEXEC) < 0) return ErrnoError() << "pipe2";
    return FdPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<FdPair> make_socketpair(int type) {
    int fds[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) < 0) return ErrnoError() << "socketpair";
    return FdPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<UniqueFd> open_fd(const std::string& path, int flags, mode_t mode) {
    int fd;
    do fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError() << "open `" << path << "`";
    return UniqueFd(fd);
}

Result<UniqueFd> open_at(BorrowedFd dir, const std::string& path, int flags, mode_t mode) {
    int fd;
    do fd = ::openat(dir.get(), path.c_str(), flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError() << "open `" << path << "`";
    return UniqueFd(fd);
}

}  // namespace berth
