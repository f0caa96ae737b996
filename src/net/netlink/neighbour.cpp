#include "net/netlink/neighbour.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "net/netlink/attrs.h"

namespace berth::net::netlink {

std::string Neighbour::str() const {
    std::string out = ip.str();
    if (mac) out += " lladdr " + mac->str();
    return out + " dev " + std::to_string(index);
}

namespace {

Request neighbour_request(uint16_t type, uint16_t flags, int index, const IpAddr& ip) {
    Request req(type, flags);
    auto* ndm = req.put_family_header<ndmsg>();
    ndm->ndm_family = static_cast<uint8_t>(ip.family());
    ndm->ndm_ifindex = index;
    req.put(NDA_DST, ip.data(), ip.size());
    return req;
}

Result<void> set_neighbour(NetlinkSocket& nl, const Neighbour& n, uint16_t flags,
                           std::string_view verb) {
    Request req = neighbour_request(RTM_NEWNEIGH, NLM_F_CREATE | flags, n.index, n.ip);
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_get_payload(req.header()));
    ndm->ndm_state = n.state;
    ndm->ndm_flags = n.flags;
    if (n.mac) req.put(NDA_LLADDR, n.mac->bytes.data(), n.mac->bytes.size());
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap(std::string(verb) + " neighbour " + n.str());
    return {};
}

}  // namespace

Result<void> add_neighbour(NetlinkSocket& nl, const Neighbour& neighbour) {
    return set_neighbour(nl, neighbour, NLM_F_EXCL, "add");
}

Result<void> replace_neighbour(NetlinkSocket& nl, const Neighbour& neighbour) {
    return set_neighbour(nl, neighbour, NLM_F_REPLACE, "replace");
}

Result<void> delete_neighbour(NetlinkSocket& nl, int index, const IpAddr& ip, uint8_t flags) {
    Request req = neighbour_request(RTM_DELNEIGH, 0, index, ip);
    static_cast<ndmsg*>(mnl_nlmsg_get_payload(req.header()))->ndm_flags = flags;
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap("delete neighbour " + ip.str() + " dev " +
                                         std::to_string(index));
    return {};
}

Result<std::vector<Neighbour>> list_neighbours(NetlinkSocket& nl, int family, int index) {
    if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
        return Error(EAFNOSUPPORT) << "list neighbours: family " << family;
    Request req(RTM_GETNEIGH, 0);
    req.put_family_header<ndmsg>()->ndm_family = static_cast<uint8_t>(family);
    std::vector<Neighbour> out;
    auto r = nl.dump(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != RTM_NEWNEIGH) return {};
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg))
            return Error(EBADMSG) << "RTM_NEWNEIGH: truncated message";
        auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
        if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) return {};
        if (family != AF_UNSPEC && ndm->ndm_family != family) return {};
        if (index && ndm->ndm_ifindex != index) return {};
        AttrTable<NDA_MAX> a;
        a.parse(nlh, sizeof(*ndm));
        auto ip = a.addr(NDA_DST);
        if (!ip) return {};
        Neighbour n;
        n.index = ndm->ndm_ifindex;
        n.ip = *ip;
        n.state = ndm->ndm_state;
        n.flags = ndm->ndm_flags;
        if (const nlattr* ll = a.get(NDA_LLADDR))
            n.mac = MacAddr::from_bytes(mnl_attr_get_payload(ll), mnl_attr_get_payload_len(ll));
        out.push_back(std::move(n));
        return {};
    });
    if (!r) return std::move(r).error().wrap("list neighbours");
    return out;
}

}  // namespace berth::net::netlink
