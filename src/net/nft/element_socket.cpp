#include "net/nft/element_socket.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace berth::net::nft {

namespace {

struct SocketCloser {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

struct ThreadSocket {
    std::unique_ptr<mnl_socket, SocketCloser> sock;
    uint32_t portid = 0;
    uint32_t seq = 0;
};

Result<ThreadSocket*> thread_socket() {
    thread_local ThreadSocket ts;
    if (ts.sock) return &ts;
    // libmnl opens without SOCK_CLOEXEC: no plugin may leak it into what it runs.
    std::unique_ptr<mnl_socket, SocketCloser> s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
    if (!s) return ErrnoError() << "nftables: netlink socket";
    if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return ErrnoError() << "nftables: bind netlink socket";
    const int fd = mnl_socket_get_fd(s.get());
    const int on = 1;
    // Acknowledgements without the request echoed back; a stuck kernel cannot hang a plugin.
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    const timeval timeout{10, 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ts.portid = mnl_socket_get_portid(s.get());
    ts.seq = 1;
    ts.sock = std::move(s);
    return &ts;
}

const char* verb(ElementOp op) {
    switch (op) {
        case ElementOp::kAdd:
            return "add element";
        case ElementOp::kDelete:
            return "delete element";
        case ElementOp::kExpire:
            return "expire element";
    }
    return "element";
}

// Sends `bytes` and reads until each message with a sequence number in [first, last] has its
// acknowledgement; stores each one's errno (0: done) in acks[seq - first]. A message in between
// that is not an acknowledgement (a GET's answer) goes to `on_data` first. An error
// acknowledging `outer_first` or `outer_last` (a batch's BEGIN or END) fails the whole exchange.
Result<std::vector<int>> exchange(ThreadSocket& ts, const std::vector<uint8_t>& bytes,
                                  uint32_t first, uint32_t last, uint32_t outer_first,
                                  uint32_t outer_last,
                                  const std::function<void(uint32_t, const nlmsghdr*)>& on_data) {
    if (mnl_socket_sendto(ts.sock.get(), bytes.data(), bytes.size()) < 0)
        return ErrnoError() << "send";
    std::vector<int> acks(last - first + 1, -1);
    size_t acked = 0;
    std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
    while (acked < acks.size()) {
        const ssize_t n = mnl_socket_recvfrom(ts.sock.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "receive";
        }
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != ts.portid) continue;
            const uint32_t seq = nlh->nlmsg_seq;
            if (seq < outer_first || seq > outer_last) continue;  // an earlier exchange's
            if (nlh->nlmsg_type != NLMSG_ERROR) {
                if (on_data && seq >= first && seq <= last) on_data(seq, nlh);
                continue;
            }
            if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) continue;
            const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
            if (seq < first || seq > last) {
                errno = err->error ? -err->error : EPROTO;
                return ErrnoError() << "batch refused";
            }
            if (acks[seq - first] == -1) acked++;
            acks[seq - first] = -err->error;
        }
    }
    return acks;
}

}  // namespace

Result<void> send_elements(const StaticTable& table, std::string_view tag,
                           const std::vector<Element>& elements, ElementOp op) {
    ThreadSocket* ts = BERTH_TRY(thread_socket());
    const WireBatch batch = BERTH_TRY(encode_element_batch(table, tag, elements, op, ts->seq));
    if (batch.sets.empty()) return {};
    ts->seq += static_cast<uint32_t>(batch.sets.size()) + 2;

    // One acknowledgement per set message, errors included (the kernel processes the whole
    // batch before answering, and aborts it if any message failed). An error on the batch
    // itself (BEGIN or END) is the answer too.
    const uint32_t first = batch.first_seq + 1;
    const uint32_t last = batch.first_seq + static_cast<uint32_t>(batch.sets.size());
    const std::vector<int> acks =
        BERTH_TRY_CTX(exchange(*ts, batch.bytes, first, last, batch.first_seq, last + 1, {}),
                      "nftables: " + std::string(verb(op)) + " " + table.ref());
    for (size_t i = 0; i < acks.size(); i++) {
        if (acks[i] == 0) continue;
        errno = acks[i];
        return ErrnoError() << "nftables: " << verb(op) << " in set " << batch.sets[i]
                            << " of table " << table.ref();
    }
    return {};
}

Result<std::vector<std::optional<std::string>>> query_elements(
    const StaticTable& table, const std::vector<Element>& elements) {
    ThreadSocket* ts = BERTH_TRY(thread_socket());
    std::vector<std::optional<std::string>> out;
    // Each answer is a full NEWSETELEM message: sent all at once, a few hundred would overrun the
    // socket's receive buffer (ENOBUFS) before the first is read. A chunk's answers are read
    // before the next chunk goes out.
    constexpr size_t kChunk = 32;
    for (size_t from = 0; from < elements.size(); from += kChunk) {
        const std::span<const Element> chunk =
            std::span(elements).subspan(from, std::min(kChunk, elements.size() - from));
        const WireQuery q = BERTH_TRY(encode_element_queries(table, chunk, ts->seq));
        if (q.index.empty()) continue;
        ts->seq += static_cast<uint32_t>(q.index.size());
        const size_t base = out.size();
        out.resize(base + q.index.size());
        const uint32_t last = q.first_seq + static_cast<uint32_t>(q.index.size()) - 1;
        const std::vector<int> acks =
            BERTH_TRY_CTX(exchange(*ts, q.bytes, q.first_seq, last, q.first_seq, last,
                                   [&](uint32_t seq, const nlmsghdr* nlh) {
                                       out[base + seq - q.first_seq] = element_comment(nlh);
                                   }),
                          "nftables: get element " + table.ref());
        for (size_t i = 0; i < acks.size(); i++) {
            std::optional<std::string>& slot = out[base + i];
            if (acks[i] == ENOENT) {
                slot.reset();
            } else if (acks[i] != 0) {
                const Element& e = chunk[q.index[i]];
                errno = acks[i];
                return ErrnoError() << "nftables: get element { " << e.key << " } in set " << e.set
                                    << " of table " << table.ref();
            } else if (!slot) {
                slot = std::string();  // acknowledged without an answer: present, no comment
            }
        }
    }
    return out;
}

}  // namespace berth::net::nft
