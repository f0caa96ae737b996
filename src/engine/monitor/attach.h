// <task-dir>/attach.sock (SOCK_SEQPACKET): every connected client gets the live output, one
// packet per chunk, its first byte the stream (1 stdout, 2 stderr) and the rest the bytes.
// What a client sends is written to the container's stdin (when the monitor keeps one).
// A client that cannot keep up (its socket buffer full) is dropped rather than buffered for:
// the monitor's memory stays flat whatever the clients do.
#pragma once

#include <poll.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/monitor/cri_log.h"

namespace berth::monitor {

class AttachServer {
  public:
    static Result<AttachServer> listen(const std::string& path);

    int listen_fd() const { return listener_.get(); }
    size_t client_count() const { return clients_.size(); }
    // Accepts everybody waiting.
    void accept_clients();
    void broadcast(Stream stream, std::string_view data);

    // Adds the clients to a poll set (POLLIN only when want_input).
    void add_poll_fds(std::vector<pollfd>& fds, bool want_input) const;
    // Handles the clients' poll results; received bytes are passed to on_input.
    template <typename OnInput>
    void handle_poll(const std::vector<pollfd>& fds, OnInput&& on_input);

  private:
    AttachServer() = default;
    UniqueFd listener_;
    std::vector<UniqueFd> clients_;
};

template <typename OnInput>
void AttachServer::handle_poll(const std::vector<pollfd>& fds, OnInput&& on_input) {
    char buf[4096];
    for (auto it = clients_.begin(); it != clients_.end();) {
        short revents = 0;
        for (const auto& p : fds) {
            if (p.fd == it->get()) revents = p.revents;
        }
        bool drop = false;
        if (revents & POLLIN) {
            ssize_t n = ::read(it->get(), buf, sizeof(buf));
            if (n > 0) {
                on_input(std::string_view(buf, static_cast<size_t>(n)));
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                drop = true;
            }
        } else if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
            drop = true;
        }
        if (drop) {
            it = clients_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace berth::monitor
