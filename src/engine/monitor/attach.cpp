#include "engine/monitor/attach.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <cstddef>

#include "engine/monitor/unix_socket.h"

namespace berth::monitor {

namespace {

// One packet without blocking: its size, 0 when it would block, -1 when the client is gone.
ssize_t send_packet(int fd, struct iovec* iov, size_t iovlen) {
    struct msghdr mh {};
    mh.msg_iov = iov;
    mh.msg_iovlen = iovlen;
    ssize_t n;
    do n = ::sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    return n;
}

}  // namespace

Result<AttachServer> AttachServer::listen(const std::string& path) {
    AttachServer server;
    server.listener_ = BERTH_TRY(listen_unix(path, SOCK_SEQPACKET));
    return server;
}

void AttachServer::accept_clients() {
    for (;;) {
        auto client = accept_unix(listener_);
        if (!client.ok() || !client->valid()) return;
        clients_.push_back(Client{std::move(*client), false, false, {}});
    }
}

void AttachServer::add_reliable_client(UniqueFd fd) {
    clients_.push_back(Client{std::move(fd), true, false, {}});
}

bool AttachServer::blocked() const {
    for (const auto& c : clients_) {
        if (!c.queued.empty()) return true;
    }
    return false;
}

bool AttachServer::send_queued(Client& c) {
    size_t sent = 0;
    for (; sent < c.queued.size(); sent++) {
        struct iovec iov = {c.queued[sent].data(), c.queued[sent].size()};
        ssize_t n = send_packet(c.fd.get(), &iov, 1);
        if (n < 0) return false;
        if (n == 0) break;
    }
    c.queued.erase(c.queued.begin(), c.queued.begin() + static_cast<std::ptrdiff_t>(sent));
    return true;
}

void AttachServer::broadcast(Stream stream, std::string_view data) {
    if (clients_.empty()) return;
    uint8_t tag = static_cast<uint8_t>(stream);
    struct iovec iov[2] = {{&tag, 1}, {const_cast<char*>(data.data()), data.size()}};
    for (auto it = clients_.begin(); it != clients_.end();) {
        ssize_t n = 0;
        // Packets stay in order: behind a queue, a packet joins it.
        if (it->queued.empty()) n = send_packet(it->fd.get(), iov, 2);
        bool drop = n < 0 || (n == 0 && !it->reliable);  // gone, or too slow
        if (!drop && n == 0) {
            std::string packet(1, static_cast<char>(tag));
            packet.append(data);
            it->queued.push_back(std::move(packet));
        }
        if (drop) {
            it = clients_.erase(it);
        } else {
            ++it;
        }
    }
}

void AttachServer::flush_reliable(int timeout_ms) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (auto& c : clients_) {
        while (!c.queued.empty()) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long waited_ms =
                (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            if (waited_ms >= timeout_ms) return;
            struct pollfd p = {c.fd.get(), POLLOUT, 0};
            if (::poll(&p, 1, static_cast<int>(timeout_ms - waited_ms)) < 0 && errno != EINTR)
                break;
            if ((p.revents & (POLLHUP | POLLERR)) || !send_queued(c)) break;
        }
    }
}

void AttachServer::add_poll_fds(std::vector<pollfd>& fds, bool want_input) const {
    for (const auto& c : clients_) {
        short events = want_input && !c.input_ended ? POLLIN : 0;
        if (!c.queued.empty()) events |= POLLOUT;
        fds.push_back({c.fd.get(), events, 0});
    }
}

}  // namespace berth::monitor
