#include "net/netlink/conntrack.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace berth::net::netlink {

namespace {

constexpr size_t kReceiveBufferSize = 64 * 1024;

struct MnlClose {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlClose>;

// What a delete needs of a matching entry: its original tuple as the kernel sent it, and zone.
struct Victim {
    std::vector<char> tuple;  // payload of CTA_TUPLE_ORIG
    std::optional<uint16_t> zone;
};

struct Tuple {
    std::optional<IpAddr> dst;
    uint8_t proto = 0;
    uint16_t dst_port = 0;  // host order
};

nlmsghdr* put_header(char* buf, uint8_t msg, uint16_t flags, int family) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = static_cast<uint8_t>(family);
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

// Attributes of one nest, indexed by type (nullptr when absent).
std::vector<const nlattr*> nested(const nlattr* nest, size_t max) {
    std::vector<const nlattr*> out(max + 1, nullptr);
    const auto* begin = static_cast<const char*>(mnl_attr_get_payload(nest));
    int left = static_cast<int>(mnl_attr_get_payload_len(nest));
    for (auto* a = reinterpret_cast<const nlattr*>(begin); mnl_attr_ok(a, left);
         a = mnl_attr_next(a)) {
        left -= static_cast<int>(NLA_ALIGN(a->nla_len));
        const uint16_t t = mnl_attr_get_type(a);
        if (t <= max) out[t] = a;
    }
    return out;
}

Tuple parse_tuple(const nlattr* orig) {
    Tuple t;
    auto parts = nested(orig, CTA_TUPLE_MAX);
    if (parts[CTA_TUPLE_IP]) {
        auto ip = nested(parts[CTA_TUPLE_IP], CTA_IP_MAX);
        for (int type : {CTA_IP_V4_DST, CTA_IP_V6_DST})
            if (ip[type])
                t.dst = IpAddr::from_bytes(mnl_attr_get_payload(ip[type]),
                                           mnl_attr_get_payload_len(ip[type]));
    }
    if (parts[CTA_TUPLE_PROTO]) {
        auto proto = nested(parts[CTA_TUPLE_PROTO], CTA_PROTO_MAX);
        if (proto[CTA_PROTO_NUM]) t.proto = mnl_attr_get_u8(proto[CTA_PROTO_NUM]);
        if (proto[CTA_PROTO_DST_PORT])
            t.dst_port = ntohs(mnl_attr_get_u16(proto[CTA_PROTO_DST_PORT]));
    }
    return t;
}

struct DumpState {
    const ConntrackFilter* filter;
    std::vector<Victim> victims;
};

int on_entry(const nlmsghdr* nlh, void* data) {
    auto* st = static_cast<DumpState*>(data);
    const nlattr* orig = nullptr;
    std::optional<uint16_t> zone;
    const auto* begin =
        static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
    int left = static_cast<int>(static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)) - begin);
    for (auto* a = reinterpret_cast<const nlattr*>(begin); mnl_attr_ok(a, left);
         a = mnl_attr_next(a)) {
        left -= static_cast<int>(NLA_ALIGN(a->nla_len));
        const uint16_t type = mnl_attr_get_type(a);
        if (type == CTA_TUPLE_ORIG) orig = a;
        if (type == CTA_ZONE) zone = ntohs(mnl_attr_get_u16(a));
    }
    if (!orig) return MNL_CB_OK;
    const Tuple t = parse_tuple(orig);
    const ConntrackFilter& f = *st->filter;
    if (t.proto != f.l4proto) return MNL_CB_OK;
    const bool match = std::any_of(f.destinations.begin(), f.destinations.end(),
                                   [&](const ConntrackDestination& d) {
                                       return d.port == t.dst_port && (!d.addr || d.addr == t.dst);
                                   });
    if (!match) return MNL_CB_OK;
    const char* p = static_cast<const char*>(mnl_attr_get_payload(orig));
    st->victims.push_back({std::vector<char>(p, p + mnl_attr_get_payload_len(orig)), zone});
    return MNL_CB_OK;
}

// Sends one request and reads until its ack or the end of its dump.
Result<void> exchange(mnl_socket* sock, nlmsghdr* nlh, mnl_cb_t cb, void* data) {
    const uint32_t portid = mnl_socket_get_portid(sock);
    if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) return ErrnoError() << "ctnetlink send";
    std::vector<char> buf(kReceiveBufferSize);
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
        if (n < 0) return ErrnoError() << "ctnetlink receive";
        const int rc = mnl_cb_run(buf.data(), n, nlh->nlmsg_seq, portid, cb, data);
        if (rc == MNL_CB_ERROR) return ErrnoError() << "ctnetlink";
        if (rc == MNL_CB_STOP) return {};
    }
}

}  // namespace

Result<size_t> delete_conntrack_entries(const ConntrackFilter& filter) {
    if (filter.destinations.empty()) return size_t{0};
    MnlSocket sock(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
    if (!sock) return ErrnoError() << "ctnetlink socket";
    if (mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return ErrnoError() << "ctnetlink bind";

    std::vector<char> req(MNL_SOCKET_BUFFER_SIZE);
    uint32_t seq = 1;
    nlmsghdr* nlh = put_header(req.data(), IPCTNL_MSG_CT_GET, NLM_F_DUMP, filter.family);
    nlh->nlmsg_seq = seq++;
    DumpState st{&filter, {}};
    if (auto r = exchange(sock.get(), nlh, on_entry, &st); !r) {
        // No conntrack in this kernel or namespace yet: nothing to delete.
        const int e = r.error().errno_value();
        if (e == ENOENT || e == EOPNOTSUPP || e == EPROTONOSUPPORT) return size_t{0};
        return std::move(r).error().wrap("listing conntrack entries");
    }

    size_t deleted = 0;
    for (const Victim& v : st.victims) {
        nlh = put_header(req.data(), IPCTNL_MSG_CT_DELETE, NLM_F_ACK, filter.family);
        nlh->nlmsg_seq = seq++;
        mnl_attr_put(nlh, CTA_TUPLE_ORIG | NLA_F_NESTED, v.tuple.size(), v.tuple.data());
        if (v.zone) mnl_attr_put_u16(nlh, CTA_ZONE, htons(*v.zone));
        auto r = exchange(sock.get(), nlh, nullptr, nullptr);
        if (r) {
            deleted++;
        } else if (r.error().errno_value() != ENOENT) {
            return std::move(r).error().wrap("deleting a conntrack entry");
        }
    }
    return deleted;
}

}  // namespace berth::net::netlink
