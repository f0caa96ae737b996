#include "net/netlink/socket.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>

#include <cstring>
#include <string>

#include "net/netlink/netns.h"

namespace berth::net::netlink {

namespace {
constexpr size_t kRequestBufferSize = 4096;
// Large enough for the biggest dump skb the kernel builds (32 KiB on 4 KiB pages, plus slack).
constexpr size_t kReceiveBufferSize = 64 * 1024;
}  // namespace

Request::Request(uint16_t type, uint16_t flags) : buf_(kRequestBufferSize) {
    hdr_ = mnl_nlmsg_put_header(buf_.data());
    hdr_->nlmsg_type = type;
    hdr_->nlmsg_flags = NLM_F_REQUEST | flags;
}

void* Request::put_extra_header(size_t size) {
    return mnl_nlmsg_put_extra_header(hdr_, size);
}
void Request::put(uint16_t type, const void* data, size_t size) {
    mnl_attr_put(hdr_, type, size, data);
}
void Request::put_u8(uint16_t type, uint8_t v) {
    mnl_attr_put_u8(hdr_, type, v);
}
void Request::put_u32(uint16_t type, uint32_t v) {
    mnl_attr_put_u32(hdr_, type, v);
}
void Request::put_str(uint16_t type, std::string_view s) {
    std::string z(s);
    mnl_attr_put_strz(hdr_, type, z.c_str());
}
nlattr* Request::nest_start(uint16_t type) {
    return mnl_attr_nest_start(hdr_, type);
}
void Request::nest_end(nlattr* nest) {
    mnl_attr_nest_end(hdr_, nest);
}

std::string_view message_type_name(uint16_t type) {
    switch (type) {
        case RTM_NEWLINK:
            return "RTM_NEWLINK";
        case RTM_DELLINK:
            return "RTM_DELLINK";
        case RTM_GETLINK:
            return "RTM_GETLINK";
        case RTM_SETLINK:
            return "RTM_SETLINK";
        case RTM_NEWADDR:
            return "RTM_NEWADDR";
        case RTM_DELADDR:
            return "RTM_DELADDR";
        case RTM_GETADDR:
            return "RTM_GETADDR";
        case RTM_NEWROUTE:
            return "RTM_NEWROUTE";
        case RTM_DELROUTE:
            return "RTM_DELROUTE";
        case RTM_GETROUTE:
            return "RTM_GETROUTE";
        case RTM_NEWNEIGH:
            return "RTM_NEWNEIGH";
        case RTM_DELNEIGH:
            return "RTM_DELNEIGH";
        case RTM_GETNEIGH:
            return "RTM_GETNEIGH";
        default:
            return "netlink request";
    }
}

void NetlinkSocket::Closer::operator()(mnl_socket* s) const {
    mnl_socket_close(s);
}

NetlinkSocket::NetlinkSocket(mnl_socket* sock) : sock_(sock), portid_(mnl_socket_get_portid(sock)) {
    // Distinct starting points keep a late reply for one socket's request from ever matching.
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    seq_ = static_cast<uint32_t>(ts.tv_nsec);
}
NetlinkSocket::NetlinkSocket(NetlinkSocket&&) noexcept = default;
NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&&) noexcept = default;
NetlinkSocket::~NetlinkSocket() = default;

int NetlinkSocket::fd() const {
    return mnl_socket_get_fd(sock_.get());
}

Result<NetlinkSocket> NetlinkSocket::open() {
    mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!s) return ErrnoError() << "open netlink socket";
    NetlinkSocket sock(s);
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) return ErrnoError() << "bind netlink socket";
    sock.portid_ = mnl_socket_get_portid(s);
    // Errors carry the kernel's explanation ("Invalid MTU"); ACKs do not echo our request.
    int one = 1;
    mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof(one));
    return sock;
}

Result<NetlinkSocket> NetlinkSocket::open_in(BorrowedFd netns) {
    return in_netns(netns, [] { return NetlinkSocket::open(); });
}

namespace {

struct ExtAck {
    std::string msg;
};

int parse_extack_attr(const nlattr* attr, void* data) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
        static_cast<ExtAck*>(data)->msg = mnl_attr_get_str(attr);
    }
    return MNL_CB_OK;
}

// The error of an NLMSG_ERROR with a non-zero code, with the extended ack text if any.
Error error_from_ack(const nlmsghdr* nlh, uint16_t request_type) {
    auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    Error e = Error::from_errno(-err->error);
    e << message_type_name(request_type);
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        size_t offset = sizeof(nlmsgerr);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
        ExtAck ack;
        if (mnl_nlmsg_get_payload_len(nlh) > offset)
            mnl_attr_parse(nlh, static_cast<unsigned>(offset), parse_extack_attr, &ack);
        if (!ack.msg.empty()) e << ": " << ack.msg;
    }
    return e;
}

}  // namespace

Result<void> NetlinkSocket::exchange(Request& req, bool is_dump, const MessageFn& on_reply,
                                     std::vector<std::vector<char>>* chunks) {
    nlmsghdr* hdr = req.header();
    hdr->nlmsg_seq = ++seq_;
    if (is_dump)
        hdr->nlmsg_flags |= NLM_F_DUMP;
    else
        hdr->nlmsg_flags |= NLM_F_ACK;
    const uint16_t type = hdr->nlmsg_type;
    if (mnl_socket_sendto(sock_.get(), hdr, hdr->nlmsg_len) < 0)
        return ErrnoError() << "send " << message_type_name(type);

    std::vector<char> buf(kReceiveBufferSize);
    bool interrupted = false;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "receive " << message_type_name(type);
        }
        bool done = false;
        bool kept = false;
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            // Leftovers of an earlier exchange that ended in an error are not ours.
            if (nlh->nlmsg_seq != hdr->nlmsg_seq || (nlh->nlmsg_pid && nlh->nlmsg_pid != portid_))
                continue;
            if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr))
                    return Error(EBADMSG) << message_type_name(type) << ": truncated error message";
                auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                if (err->error != 0) return error_from_ack(nlh, type);
                done = true;
            } else if (nlh->nlmsg_type == NLMSG_DONE) {
                // A dump that failed midway says so in NLMSG_DONE's payload.
                if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
                    int code = *static_cast<const int*>(mnl_nlmsg_get_payload(nlh));
                    if (code < 0) return Error::from_errno(-code) << message_type_name(type);
                }
                done = true;
            } else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
                if (chunks) {
                    kept = true;
                } else if (on_reply) {
                    BERTH_TRY(on_reply(nlh));
                }
            }
        }
        if (kept) chunks->emplace_back(buf.begin(), buf.begin() + n);
        if (done) break;
    }
    if (interrupted) return Error(EINTR) << message_type_name(type) << ": dump interrupted";
    return {};
}

Result<void> NetlinkSocket::execute(Request& req, const MessageFn& on_reply) {
    return exchange(req, false, on_reply, nullptr);
}

Result<void> NetlinkSocket::dump(Request& req, const MessageFn& on_message) {
    for (int attempt = 1;; attempt++) {
        std::vector<std::vector<char>> chunks;
        auto r = exchange(req, true, {}, &chunks);
        if (!r) {
            if (r.error().errno_value() == EINTR && attempt < kDumpAttempts) continue;
            if (r.error().errno_value() == EINTR)
                return std::move(r).error() << " " << kDumpAttempts << " times";
            return r;
        }
        const uint32_t seq = req.header()->nlmsg_seq;
        for (const auto& chunk : chunks) {
            int len = static_cast<int>(chunk.size());
            for (auto* nlh = reinterpret_cast<const nlmsghdr*>(chunk.data());
                 mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
                if (nlh->nlmsg_seq != seq || nlh->nlmsg_type < NLMSG_MIN_TYPE) continue;
                BERTH_TRY(on_message(nlh));
            }
        }
        return {};
    }
}

}  // namespace berth::net::netlink
