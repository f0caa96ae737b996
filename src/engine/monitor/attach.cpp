#include "engine/monitor/attach.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include "engine/monitor/unix_socket.h"

namespace berth::monitor {

Result<AttachServer> AttachServer::listen(const std::string& path) {
    AttachServer server;
    server.listener_ = BERTH_TRY(listen_unix(path, SOCK_SEQPACKET));
    return server;
}

void AttachServer::accept_clients() {
    for (;;) {
        auto client = accept_unix(listener_);
        if (!client.ok() || !client->valid()) return;
        clients_.push_back(std::move(*client));
    }
}

void AttachServer::broadcast(Stream stream, std::string_view data) {
    if (clients_.empty()) return;
    uint8_t tag = static_cast<uint8_t>(stream);
    struct iovec iov[2] = {{&tag, 1}, {const_cast<char*>(data.data()), data.size()}};
    struct msghdr mh {};
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    for (auto it = clients_.begin(); it != clients_.end();) {
        ssize_t n;
        do n = ::sendmsg(it->get(), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            it = clients_.erase(it);  // gone, or too slow
        } else {
            ++it;
        }
    }
}

void AttachServer::add_poll_fds(std::vector<pollfd>& fds, bool want_input) const {
    for (const auto& c : clients_)
        fds.push_back({c.get(), static_cast<short>(want_input ? POLLIN : 0), 0});
}

}  // namespace berth::monitor
