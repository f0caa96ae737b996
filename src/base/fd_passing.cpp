#include "base/fd_passing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace berth {

Result<size_t> send_with_fd(BorrowedFd sock, const struct iovec* iov, size_t iovlen, int pass_fd) {
    struct msghdr mh {};
    mh.msg_iov = const_cast<struct iovec*>(iov);
    mh.msg_iovlen = iovlen;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    if (pass_fd >= 0) {
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do n = ::sendmsg(sock.get(), &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError() << "sendmsg";
    return static_cast<size_t>(n);
}

Result<size_t> receive_with_fd(BorrowedFd sock, struct iovec* iov, size_t iovlen, UniqueFd* fd) {
    struct msghdr mh {};
    mh.msg_iov = iov;
    mh.msg_iovlen = iovlen;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof(cbuf);
    ssize_t n;
    bool reset_seen = false;
    for (;;) {
        n = ::recvmsg(sock.get(), &mh, MSG_CMSG_CLOEXEC);
        if (n >= 0 || errno == EINTR) {
            if (n >= 0) break;
            continue;
        }
        // A peer that exits with our messages unread leaves ECONNRESET pending on this socket,
        // reported before the messages it sent us first (an init's error before it died).
        // Reading it clears it: the next call returns what is still queued, or EOF.
        if (errno == ECONNRESET && !reset_seen) {
            reset_seen = true;
            continue;
        }
        return ErrnoError() << "recvmsg";
    }
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int received;
        std::memcpy(&received, CMSG_DATA(c), sizeof(int));
        if (fd)
            fd->reset(received);
        else
            ::close(received);
    }
    return static_cast<size_t>(n);
}

}  // namespace berth
