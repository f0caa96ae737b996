#include "runtime/channel.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

namespace berth::runtime {
namespace {

struct Header {
    uint32_t type;
    int32_t pad;
    int64_t value;
};

constexpr size_t kMaxText = 16 * 1024;

}  // namespace

const char* msg_name(Msg m) {
    switch (m) {
        case Msg::Go: return "go";
        case Msg::Pid: return "pid";
        case Msg::RunCreateHooks: return "run-create-hooks";
        case Msg::HooksDone: return "hooks-done";
        case Msg::Ready: return "ready";
        case Msg::Error: return "error";
    }
    return "unknown";
}

Result<void> Channel::send(Msg type, int64_t value, std::string_view text, int pass_fd) {
    Header h{static_cast<uint32_t>(type), 0, value};
    if (text.size() > kMaxText) text = text.substr(0, kMaxText);
    struct iovec iov[2] = {{&h, sizeof(h)}, {const_cast<char*>(text.data()), text.size()}};
    struct msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = text.empty() ? 1 : 2;
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
    do n = ::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError() << "send " << msg_name(type) << " on sync channel";
    return {};
}

Result<void> Channel::send_error(const berth::Error& e) {
    return send(Msg::Error, e.errno_value(), e.what());
}

Result<Message> Channel::receive(UniqueFd* received_fd) {
    Header h{};
    std::string text(kMaxText, '\0');
    struct iovec iov[2] = {{&h, sizeof(h)}, {text.data(), text.size()}};
    struct msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof(cbuf);
    ssize_t n;
    do n = ::recvmsg(fd_.get(), &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError() << "receive on sync channel";
    if (n == 0) return Error(EPIPE) << "the container process exited before it was ready";
    if (static_cast<size_t>(n) < sizeof(h)) return Error(EPROTO) << "short message on sync channel";
    text.resize(static_cast<size_t>(n) - sizeof(h));
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
            if (received_fd)
                received_fd->reset(fd);
            else
                ::close(fd);
        }
    }
    Message m{static_cast<Msg>(h.type), h.value, std::move(text)};
    if (m.type == Msg::Error) return berth::Error(static_cast<int>(m.value), std::move(m.text));
    return m;
}

Result<Message> Channel::expect(Msg type, UniqueFd* received_fd) {
    auto m = receive(received_fd);
    if (!m) {
        if (m.error().errno_value() == EPIPE)
            return berth::Error(EPIPE) << "the container process exited while berth-runtime waited for "
                                       << msg_name(type);
        return m;
    }
    if (m->type != type)
        return berth::Error(EPROTO) << "unexpected " << msg_name(m->type) << " while waiting for "
                                    << msg_name(type);
    return m;
}

}  // namespace berth::runtime
