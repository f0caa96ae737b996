#include "net/netlink/link.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>

#include <cstdio>
#include <cstring>

namespace berth::net::netlink {

bool LinkInfo::up() const {
    return (flags & IFF_UP) != 0;
}

namespace {

struct LinkAttrs {
    const nlattr* tb[IFLA_MAX + 1] = {};
};

int collect_link_attr(const nlattr* attr, void* data) {
    auto* attrs = static_cast<LinkAttrs*>(data);
    uint16_t type = mnl_attr_get_type(attr);
    if (type <= IFLA_MAX) attrs->tb[type] = attr;
    return MNL_CB_OK;
}

int find_info_kind(const nlattr* attr, void* data) {
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
        *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
    }
    return MNL_CB_OK;
}

std::string format_mac(const nlattr* attr) {
    auto* b = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
    size_t n = mnl_attr_get_payload_len(attr);
    std::string out;
    char part[4];
    for (size_t i = 0; i < n; i++) {
        std::snprintf(part, sizeof(part), i ? ":%02x" : "%02x", b[i]);
        out += part;
    }
    return out;
}

Result<LinkInfo> parse_link(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg))
        return Error(EBADMSG) << "RTM_NEWLINK: truncated message";
    auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    LinkInfo link;
    link.index = ifi->ifi_index;
    link.flags = ifi->ifi_flags;
    LinkAttrs a;
    mnl_attr_parse(nlh, sizeof(*ifi), collect_link_attr, &a);
    if (a.tb[IFLA_IFNAME] && mnl_attr_validate(a.tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) >= 0)
        link.name = mnl_attr_get_str(a.tb[IFLA_IFNAME]);
    if (a.tb[IFLA_MTU] && mnl_attr_validate(a.tb[IFLA_MTU], MNL_TYPE_U32) >= 0)
        link.mtu = mnl_attr_get_u32(a.tb[IFLA_MTU]);
    if (a.tb[IFLA_MASTER] && mnl_attr_validate(a.tb[IFLA_MASTER], MNL_TYPE_U32) >= 0)
        link.master = static_cast<int>(mnl_attr_get_u32(a.tb[IFLA_MASTER]));
    if (a.tb[IFLA_LINK] && mnl_attr_validate(a.tb[IFLA_LINK], MNL_TYPE_U32) >= 0)
        link.parent = static_cast<int>(mnl_attr_get_u32(a.tb[IFLA_LINK]));
    if (a.tb[IFLA_LINK_NETNSID] && mnl_attr_validate(a.tb[IFLA_LINK_NETNSID], MNL_TYPE_U32) >= 0)
        link.link_netnsid = static_cast<int32_t>(mnl_attr_get_u32(a.tb[IFLA_LINK_NETNSID]));
    if (a.tb[IFLA_OPERSTATE] && mnl_attr_validate(a.tb[IFLA_OPERSTATE], MNL_TYPE_U8) >= 0)
        link.operstate = mnl_attr_get_u8(a.tb[IFLA_OPERSTATE]);
    if (a.tb[IFLA_ADDRESS] && ifi->ifi_type != ARPHRD_LOOPBACK)
        link.mac = format_mac(a.tb[IFLA_ADDRESS]);
    if (a.tb[IFLA_LINKINFO] && mnl_attr_validate(a.tb[IFLA_LINKINFO], MNL_TYPE_NESTED) >= 0)
        mnl_attr_parse_nested(a.tb[IFLA_LINKINFO], find_info_kind, &link.kind);
    return link;
}

Result<void> check_name(std::string_view name) {
    if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string_view::npos ||
        name.find_first_of(" \t\n:") != std::string_view::npos || name == "." || name == "..")
        return Error(EINVAL) << "invalid interface name `" << name << "`";
    return {};
}

Result<LinkInfo> get_link_by(NetlinkSocket& nl, int index, std::string_view name) {
    Request req(RTM_GETLINK, 0);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    if (!name.empty()) req.put_str(IFLA_IFNAME, name);
    req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::optional<LinkInfo> found;
    auto r = nl.execute(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type == RTM_NEWLINK) found = BERTH_TRY(parse_link(nlh));
        return {};
    });
    auto describe = [&] {
        return name.empty() ? "link " + std::to_string(index) : "link `" + std::string(name) + "`";
    };
    if (!r) return std::move(r).error().wrap("get " + describe());
    if (!found) return Error(ENODEV) << "get " << describe() << ": no reply";
    return std::move(*found);
}

// An RTM_NEWLINK request that changes an existing link.
Request set_link_request(int index) {
    Request req(RTM_NEWLINK, 0);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    return req;
}

std::string link_label(int index) {
    return "link " + std::to_string(index);
}

}  // namespace

Result<LinkInfo> get_link(NetlinkSocket& nl, std::string_view name) {
    BERTH_TRY(check_name(name));
    return get_link_by(nl, 0, name);
}

Result<LinkInfo> get_link(NetlinkSocket& nl, int index) {
    if (index <= 0) return Error(EINVAL) << "invalid link index " << index;
    return get_link_by(nl, index, {});
}

Result<std::vector<LinkInfo>> list_links(NetlinkSocket& nl) {
    Request req(RTM_GETLINK, 0);
    req.put_family_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::vector<LinkInfo> links;
    auto r = nl.dump(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type == RTM_NEWLINK) links.push_back(BERTH_TRY(parse_link(nlh)));
        return {};
    });
    if (!r) return std::move(r).error().wrap("list links");
    return links;
}

Result<void> create_veth(NetlinkSocket& nl, const VethSpec& spec) {
    BERTH_TRY(check_name(spec.name));
    BERTH_TRY(check_name(spec.peer_name));
    Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    req.put_family_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    req.put_str(IFLA_IFNAME, spec.name);
    if (spec.mtu) req.put_u32(IFLA_MTU, spec.mtu);
    nlattr* linkinfo = req.nest_start(IFLA_LINKINFO);
    req.put_str(IFLA_INFO_KIND, "veth");
    nlattr* data = req.nest_start(IFLA_INFO_DATA);
    nlattr* peer = req.nest_start(VETH_INFO_PEER);
    // The peer's attributes follow its own ifinfomsg.
    req.put_family_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    req.put_str(IFLA_IFNAME, spec.peer_name);
    if (spec.mtu) req.put_u32(IFLA_MTU, spec.mtu);
    if (spec.peer_netns_fd >= 0)
        req.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peer_netns_fd));
    req.nest_end(peer);
    req.nest_end(data);
    req.nest_end(linkinfo);
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap("create veth `" + spec.name + "` (peer `" +
                                         spec.peer_name + "`)");
    return {};
}

Result<void> create_bridge(NetlinkSocket& nl, const BridgeSpec& spec) {
    BERTH_TRY(check_name(spec.name));
    Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    req.put_family_header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    req.put_str(IFLA_IFNAME, spec.name);
    if (spec.mtu) req.put_u32(IFLA_MTU, spec.mtu);
    nlattr* linkinfo = req.nest_start(IFLA_LINKINFO);
    req.put_str(IFLA_INFO_KIND, "bridge");
    req.nest_end(linkinfo);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("create bridge `" + spec.name + "`");
    return {};
}

Result<void> set_link_up(NetlinkSocket& nl, int index, bool up) {
    Request req(RTM_NEWLINK, 0);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = up ? IFF_UP : 0;
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap(std::string(up ? "set up " : "set down ") +
                                         link_label(index));
    return {};
}

Result<void> set_link_mtu(NetlinkSocket& nl, int index, uint32_t mtu) {
    Request req = set_link_request(index);
    req.put_u32(IFLA_MTU, mtu);
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap("set MTU " + std::to_string(mtu) + " on " +
                                         link_label(index));
    return {};
}

Result<void> set_link_master(NetlinkSocket& nl, int index, int master_index) {
    Request req = set_link_request(index);
    req.put_u32(IFLA_MASTER, static_cast<uint32_t>(master_index));
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap("set master of " + link_label(index) + " to " +
                                         link_label(master_index));
    return {};
}

Result<void> move_link_to_netns(NetlinkSocket& nl, int index, BorrowedFd netns,
                                std::string_view new_name) {
    if (!new_name.empty()) BERTH_TRY(check_name(new_name));
    Request req = set_link_request(index);
    req.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(netns.get()));
    if (!new_name.empty()) req.put_str(IFLA_IFNAME, new_name);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("move " + link_label(index) + " to another netns");
    return {};
}

Result<void> delete_link(NetlinkSocket& nl, int index) {
    Request req(RTM_DELLINK, 0);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("delete " + link_label(index));
    return {};
}

}  // namespace berth::net::netlink
