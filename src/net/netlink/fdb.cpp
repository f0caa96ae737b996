#include "net/netlink/fdb.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "net/netlink/attrs.h"

namespace berth::net::netlink {

std::string FdbEntry::str() const {
    std::string out = mac.str() + " dev " + std::to_string(index);
    if (dst) out += " dst " + dst->str();
    if (port) out += " port " + std::to_string(*port);
    if (vni) out += " vni " + std::to_string(*vni);
    if (via) out += " via " + std::to_string(via);
    if (vlan) out += " vlan " + std::to_string(*vlan);
    if (flags & NTF_SELF) out += " self";
    if (flags & NTF_MASTER) out += " master";
    if (state & NUD_PERMANENT)
        out += " permanent";
    else if (state & NUD_NOARP)
        out += " static";
    return out;
}

namespace {

Request fdb_request(uint16_t type, uint16_t flags, const FdbEntry& e) {
    Request req(type, flags);
    auto* ndm = req.put_family_header<ndmsg>();
    ndm->ndm_family = AF_BRIDGE;
    ndm->ndm_ifindex = e.index;
    ndm->ndm_state = e.state;
    ndm->ndm_flags = e.flags;
    req.put(NDA_LLADDR, e.mac.bytes.data(), e.mac.bytes.size());
    if (e.dst) req.put(NDA_DST, e.dst->data(), e.dst->size());
    if (e.port) {
        uint16_t be = htons(*e.port);
        req.put(NDA_PORT, &be, sizeof(be));
    }
    if (e.vni) req.put_u32(NDA_VNI, *e.vni);
    if (e.via) req.put_u32(NDA_IFINDEX, static_cast<uint32_t>(e.via));
    if (e.vlan) req.put(NDA_VLAN, &*e.vlan, sizeof(uint16_t));
    return req;
}

Result<void> set_fdb(NetlinkSocket& nl, const FdbEntry& e, uint16_t flags, std::string_view verb) {
    Request req = fdb_request(RTM_NEWNEIGH, NLM_F_CREATE | flags, e);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap(std::string(verb) + " fdb entry " + e.str());
    return {};
}

}  // namespace

Result<void> add_fdb(NetlinkSocket& nl, const FdbEntry& entry) {
    return set_fdb(nl, entry, NLM_F_EXCL, "add");
}

Result<void> append_fdb(NetlinkSocket& nl, const FdbEntry& entry) {
    return set_fdb(nl, entry, NLM_F_APPEND, "append");
}

Result<void> replace_fdb(NetlinkSocket& nl, const FdbEntry& entry) {
    return set_fdb(nl, entry, NLM_F_REPLACE, "replace");
}

Result<void> delete_fdb(NetlinkSocket& nl, const FdbEntry& entry) {
    Request req = fdb_request(RTM_DELNEIGH, 0, entry);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("delete fdb entry " + entry.str());
    return {};
}

Result<std::vector<FdbEntry>> list_fdb(NetlinkSocket& nl, const FdbFilter& filter) {
    Request req(RTM_GETNEIGH, 0);
    // A bare ndmsg asks for every entry; filtering happens here.
    req.put_family_header<ndmsg>()->ndm_family = AF_BRIDGE;
    std::vector<FdbEntry> out;
    auto r = nl.dump(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != RTM_NEWNEIGH) return {};
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg))
            return Error(EBADMSG) << "RTM_NEWNEIGH: truncated message";
        auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
        if (ndm->ndm_family != AF_BRIDGE) return {};
        if (filter.index && ndm->ndm_ifindex != filter.index) return {};
        AttrTable<NDA_MAX> a;
        a.parse(nlh, sizeof(*ndm));
        const nlattr* ll = a.get(NDA_LLADDR);
        auto mac = ll ? MacAddr::from_bytes(mnl_attr_get_payload(ll), mnl_attr_get_payload_len(ll))
                      : std::nullopt;
        if (!mac) return {};
        FdbEntry e;
        e.index = ndm->ndm_ifindex;
        e.mac = *mac;
        e.state = ndm->ndm_state;
        e.flags = ndm->ndm_flags;
        e.dst = a.addr(NDA_DST);
        if (auto port = a.u16(NDA_PORT)) e.port = ntohs(*port);
        e.vni = a.u32(NDA_VNI);
        e.via = static_cast<int>(a.u32(NDA_IFINDEX).value_or(0));
        e.vlan = a.u16(NDA_VLAN);
        e.master = static_cast<int>(a.u32(NDA_MASTER).value_or(0));
        if (filter.master && e.master != filter.master) return {};
        out.push_back(std::move(e));
        return {};
    });
    if (!r) return std::move(r).error().wrap("list fdb entries");
    return out;
}

}  // namespace berth::net::netlink
