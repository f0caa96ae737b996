// <task-dir>/attach.sock (SOCK_SEQPACKET): every connected client gets the live output, one
// packet per chunk, its first byte the stream (1 stdout, 2 stderr) and the rest the bytes.
// What a client sends is written to the container's stdin (when the monitor keeps one); a
// client's half-close (shutdown SHUT_WR, in order behind what it sent) closes that stdin.
// A client that cannot keep up (its socket buffer full) is dropped rather than buffered for:
// the monitor's memory stays flat whatever the clients do. The one exception is a client
// handed over with --attach-fd (the foreground `run -i`/`-t` or `start -a`): it must see every
// byte, so while it is full the monitor stops reading the container's output (the container
// blocks on its writes, as with docker), keeping at most what it already read.
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
    // A client connected by somebody else (--attach-fd): never dropped for being slow.
    void add_reliable_client(UniqueFd fd);
    void broadcast(Stream stream, std::string_view data);
    // A reliable client has output queued: do not read more until it takes it.
    bool blocked() const;
    // Waits up to timeout_ms for the reliable clients to take what is queued for them (the
    // task is over: what it wrote last must still reach the foreground client).
    void flush_reliable(int timeout_ms);

    // Adds the clients to a poll set (POLLIN only when want_input; POLLOUT while queued).
    void add_poll_fds(std::vector<pollfd>& fds, bool want_input) const;
    // Handles the clients' poll results; received bytes are passed to on_input, a client's
    // half-close calls on_eof.
    template <typename OnInput, typename OnEof>
    void handle_poll(const std::vector<pollfd>& fds, OnInput&& on_input, OnEof&& on_eof);

  private:
    struct Client {
        UniqueFd fd;
        bool reliable = false;
        bool input_ended = false;         // half-closed: nothing more to read
        std::vector<std::string> queued;  // whole packets, tag byte first
    };
    AttachServer() = default;
    // Sends what is queued; false when the client is gone.
    static bool send_queued(Client& c);

    UniqueFd listener_;
    std::vector<Client> clients_;
};

template <typename OnInput, typename OnEof>
void AttachServer::handle_poll(const std::vector<pollfd>& fds, OnInput&& on_input, OnEof&& on_eof) {
    char buf[4096];
    for (auto it = clients_.begin(); it != clients_.end();) {
        short revents = 0;
        for (const auto& p : fds) {
            if (p.fd == it->fd.get()) revents = p.revents;
        }
        bool drop = false;
        if (revents & POLLIN) {
            ssize_t n = ::read(it->fd.get(), buf, sizeof(buf));
            if (n > 0) {
                on_input(std::string_view(buf, static_cast<size_t>(n)));
            } else if (n == 0 && !(revents & POLLHUP)) {
                // Shut for writing only: still a reader of the output.
                it->input_ended = true;
                on_eof();
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                drop = true;
            }
        } else if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
            drop = true;
        }
        if (!drop && (revents & POLLOUT)) drop = !send_queued(*it);
        if (drop) {
            it = clients_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace berth::monitor
