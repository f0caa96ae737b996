#include "net/nft/element_socket.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <memory>

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
    return op == ElementOp::kAdd ? "add element" : "delete element";
}

}  // namespace

Result<void> send_elements(const StaticTable& table, std::string_view tag,
                           const std::vector<Element>& elements, ElementOp op) {
    ThreadSocket* ts = BERTH_TRY(thread_socket());
    const WireBatch batch = BERTH_TRY(encode_element_batch(table, tag, elements, op, ts->seq));
    if (batch.sets.empty()) return {};
    ts->seq += static_cast<uint32_t>(batch.sets.size()) + 2;
    if (mnl_socket_sendto(ts->sock.get(), batch.bytes.data(), batch.bytes.size()) < 0)
        return ErrnoError() << "nftables: " << verb(op) << " " << table.ref() << ": send";

    // One acknowledgement per set message, errors included (the kernel processes the whole
    // batch before answering, and aborts it if any message failed). An error on the batch
    // itself (BEGIN or END) is the answer too.
    const uint32_t first = batch.first_seq + 1, last = batch.first_seq + batch.sets.size();
    size_t acked = 0;
    int first_error = 0;
    std::string failed_set;
    std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
    while (acked < batch.sets.size()) {
        const ssize_t n = mnl_socket_recvfrom(ts->sock.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "nftables: " << verb(op) << " " << table.ref() << ": receive";
        }
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != ts->portid) continue;
            if (nlh->nlmsg_type != NLMSG_ERROR) continue;
            if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) continue;
            const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
            const uint32_t seq = nlh->nlmsg_seq;
            if (seq < batch.first_seq || seq > last + 1) continue;  // an earlier exchange's
            if (seq < first || seq > last) {                        // the batch as a whole
                errno = err->error ? -err->error : EPROTO;
                return ErrnoError()
                       << "nftables: " << verb(op) << " " << table.ref() << ": batch refused";
            }
            acked++;
            if (err->error != 0 && first_error == 0) {
                first_error = -err->error;
                failed_set = batch.sets[seq - first];
            }
        }
    }
    if (first_error != 0) {
        errno = first_error;
        return ErrnoError() << "nftables: " << verb(op) << " in set " << failed_set << " of table "
                            << table.ref();
    }
    return {};
}

}  // namespace berth::net::nft
