#include "net/netlink/vxlan.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "net/netlink/attrs.h"
#include "net/netlink/dummy.h"

namespace berth::net::netlink {

namespace {

constexpr uint32_t kMaxVni = (1u << 24) - 1;

bool is_multicast(const IpAddr& a) {
    return a.is_v4() ? (a.data()[0] & 0xf0) == 0xe0 : a.data()[0] == 0xff;
}

Result<void> check_spec(const VxlanSpec& spec) {
    auto fail = [&] { return Error(EINVAL) << "create vxlan `" << spec.name << "`: "; };
    if (spec.vni > kMaxVni) return fail() << "VNI " << spec.vni << " exceeds 24 bits";
    if (spec.remote && spec.group) return fail() << "remote and group are exclusive";
    if (spec.remote && is_multicast(*spec.remote))
        return fail() << "remote " << spec.remote->str() << " is a multicast address";
    if (spec.group && !is_multicast(*spec.group))
        return fail() << "group " << spec.group->str() << " is not a multicast address";
    const std::optional<IpAddr>& dst = spec.remote ? spec.remote : spec.group;
    if (spec.local && dst && spec.local->family() != dst->family())
        return fail() << "local " << spec.local->str() << " and destination " << dst->str()
                      << " are of different families";
    return {};
}

void put_addr(Request& req, uint16_t v4_type, uint16_t v6_type, const IpAddr& a) {
    req.put(a.is_v4() ? v4_type : v6_type, a.data(), a.size());
}

void put_vxlan_data(Request& req, const VxlanSpec& spec) {
    req.put_u32(IFLA_VXLAN_ID, spec.vni);
    if (spec.local) put_addr(req, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, *spec.local);
    if (spec.remote) put_addr(req, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *spec.remote);
    if (spec.group) put_addr(req, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *spec.group);
    if (spec.link) req.put_u32(IFLA_VXLAN_LINK, static_cast<uint32_t>(spec.link));
    uint16_t port = htons(spec.dst_port);  // the one big-endian attribute
    req.put(IFLA_VXLAN_PORT, &port, sizeof(port));
    req.put_u8(IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
    if (spec.ttl) req.put_u8(IFLA_VXLAN_TTL, *spec.ttl);
    if (spec.tos) req.put_u8(IFLA_VXLAN_TOS, *spec.tos);
    if (spec.ageing) req.put_u32(IFLA_VXLAN_AGEING, *spec.ageing);
    if (spec.udp_csum) req.put_u8(IFLA_VXLAN_UDP_CSUM, *spec.udp_csum ? 1 : 0);
    if (spec.udp6_zero_csum_tx)
        req.put_u8(IFLA_VXLAN_UDP_ZERO_CSUM6_TX, *spec.udp6_zero_csum_tx ? 1 : 0);
    if (spec.udp6_zero_csum_rx)
        req.put_u8(IFLA_VXLAN_UDP_ZERO_CSUM6_RX, *spec.udp6_zero_csum_rx ? 1 : 0);
    if (spec.proxy) req.put_u8(IFLA_VXLAN_PROXY, 1);
    if (spec.l2miss) req.put_u8(IFLA_VXLAN_L2MISS, 1);
    if (spec.l3miss) req.put_u8(IFLA_VXLAN_L3MISS, 1);
}

// Parses one RTM_NEWLINK reply; kind is the link's IFLA_INFO_KIND.
Result<VxlanInfo> parse_vxlan(const nlmsghdr* nlh, std::string& kind) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg))
        return Error(EBADMSG) << "RTM_NEWLINK: truncated message";
    auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    AttrTable<IFLA_MAX> link;
    link.parse(nlh, sizeof(*ifi));
    VxlanInfo info;
    info.index = ifi->ifi_index;
    AttrTable<IFLA_INFO_MAX> linkinfo;
    if (!linkinfo.parse_nested(link.get(IFLA_LINKINFO))) return info;
    kind = linkinfo.str(IFLA_INFO_KIND).value_or("");
    AttrTable<IFLA_VXLAN_MAX> v;
    if (kind != "vxlan" || !v.parse_nested(linkinfo.get(IFLA_INFO_DATA))) return info;
    // The kernel reports 0.0.0.0 / :: for unset addresses.
    auto set = [](const std::optional<IpAddr>& a) {
        return a && !a->is_unspecified() ? a : std::nullopt;
    };
    info.vni = v.u32(IFLA_VXLAN_ID).value_or(0);
    info.local = set(v.addr(IFLA_VXLAN_LOCAL));
    if (!info.local) info.local = set(v.addr(IFLA_VXLAN_LOCAL6));
    auto dst = set(v.addr(IFLA_VXLAN_GROUP));
    if (!dst) dst = set(v.addr(IFLA_VXLAN_GROUP6));
    if (dst) (is_multicast(*dst) ? info.group : info.remote) = dst;
    info.dst_port = ntohs(v.u16(IFLA_VXLAN_PORT).value_or(0));
    info.link = static_cast<int>(v.u32(IFLA_VXLAN_LINK).value_or(0));
    auto flag = [&](uint16_t type) { return v.u8(type).value_or(0) != 0; };
    info.learning = flag(IFLA_VXLAN_LEARNING);
    info.ttl = v.u8(IFLA_VXLAN_TTL).value_or(0);
    info.tos = v.u8(IFLA_VXLAN_TOS).value_or(0);
    info.ageing = v.u32(IFLA_VXLAN_AGEING).value_or(0);
    info.udp_csum = flag(IFLA_VXLAN_UDP_CSUM);
    info.udp6_zero_csum_tx = flag(IFLA_VXLAN_UDP_ZERO_CSUM6_TX);
    info.udp6_zero_csum_rx = flag(IFLA_VXLAN_UDP_ZERO_CSUM6_RX);
    info.proxy = flag(IFLA_VXLAN_PROXY);
    info.l2miss = flag(IFLA_VXLAN_L2MISS);
    info.l3miss = flag(IFLA_VXLAN_L3MISS);
    return info;
}

}  // namespace

Result<void> create_vxlan(NetlinkSocket& nl, const VxlanSpec& spec) {
    BERTH_TRY(check_spec(spec));
    return create_link(nl, {.name = spec.name,
                            .kind = "vxlan",
                            .mtu = spec.mtu,
                            .mac = spec.mac,
                            .put_info_data = [&](Request& req) { put_vxlan_data(req, spec); }});
}

Result<VxlanInfo> get_vxlan(NetlinkSocket& nl, std::string_view name) {
    const std::string label = "get vxlan `" + std::string(name) + "`";
    if (name.empty() || name.size() >= IFNAMSIZ) return Error(EINVAL) << label << ": invalid name";
    Request req(RTM_GETLINK, 0);
    req.put_family_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    req.put_str(IFLA_IFNAME, name);
    req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::optional<VxlanInfo> found;
    std::string kind;
    auto r = nl.execute(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type == RTM_NEWLINK) found = BERTH_TRY(parse_vxlan(nlh, kind));
        return {};
    });
    if (!r) return std::move(r).error().wrap(label);
    if (!found) return Error(ENODEV) << label << ": no reply";
    if (kind != "vxlan")
        return Error(EMEDIUMTYPE) << label << ": the link is of kind `" << kind << "`";
    return std::move(*found);
}

}  // namespace berth::net::netlink
