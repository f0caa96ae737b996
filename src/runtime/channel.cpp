#include "runtime/channel.h"

#include "base/fd_passing.h"

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
        case Msg::Go:
            return "go";
        case Msg::Pid:
            return "pid";
        case Msg::RunCreateHooks:
            return "run-create-hooks";
        case Msg::HooksDone:
            return "hooks-done";
        case Msg::Ready:
            return "ready";
        case Msg::Error:
            return "error";
        case Msg::CgroupJoined:
            return "cgroup-joined";
        case Msg::Created:
            return "created";
    }
    return "unknown";
}

Result<void> Channel::send(Msg type, int64_t value, std::string_view text, int pass_fd) {
    Header h{static_cast<uint32_t>(type), 0, value};
    if (text.size() > kMaxText) text = text.substr(0, kMaxText);
    struct iovec iov[2] = {{&h, sizeof(h)}, {const_cast<char*>(text.data()), text.size()}};
    auto r = send_with_fd(fd_, iov, text.empty() ? 1 : 2, pass_fd);
    if (!r)
        return std::move(r).error().wrap(std::string("send ") + msg_name(type) +
                                         " on sync channel");
    return {};
}

Result<void> Channel::send_error(const berth::Error& e) {
    return send(Msg::Error, e.errno_value(), e.what());
}

Result<Message> Channel::receive(UniqueFd* received_fd) {
    Header h{};
    std::string text(kMaxText, '\0');
    struct iovec iov[2] = {{&h, sizeof(h)}, {text.data(), text.size()}};
    auto received = receive_with_fd(fd_, iov, 2, received_fd);
    if (!received) return std::move(received).error().wrap("receive on sync channel");
    size_t n = *received;
    if (n == 0) return Error(EPIPE) << "the container process exited before it was ready";
    if (n < sizeof(h)) return Error(EPROTO) << "short message on sync channel";
    text.resize(n - sizeof(h));
    Message m{static_cast<Msg>(h.type), h.value, std::move(text)};
    if (m.type == Msg::Error) return berth::Error(static_cast<int>(m.value), std::move(m.text));
    return m;
}

Result<Message> Channel::expect(Msg type, UniqueFd* received_fd) {
    auto m = receive(received_fd);
    if (!m) {
        if (m.error().errno_value() == EPIPE)
            return berth::Error(EPIPE)
                   << "the container process exited while berth-runtime waited for "
                   << msg_name(type);
        return m;
    }
    if (m->type != type)
        return berth::Error(EPROTO)
               << "unexpected " << msg_name(m->type) << " while waiting for " << msg_name(type);
    return m;
}

}  // namespace berth::runtime
