#include "net/netlink/link.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>

#include <sys/random.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>

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
    auto* veth_ifi = req.put_family_header<ifinfomsg>();
    veth_ifi->ifi_family = AF_UNSPEC;
    if (spec.up) veth_ifi->ifi_change = veth_ifi->ifi_flags = IFF_UP;
    req.put_str(IFLA_IFNAME, spec.name);
    if (spec.mtu) req.put_u32(IFLA_MTU, spec.mtu);
    if (spec.master > 0) req.put_u32(IFLA_MASTER, static_cast<uint32_t>(spec.master));
    nlattr* linkinfo = req.nest_start(IFLA_LINKINFO);
    req.put_str(IFLA_INFO_KIND, "veth");
    nlattr* data = req.nest_start(IFLA_INFO_DATA);
    nlattr* peer = req.nest_start(VETH_INFO_PEER);
    // The peer's attributes follow its own ifinfomsg.
    auto* peer_ifi = req.put_family_header<ifinfomsg>();
    peer_ifi->ifi_family = AF_UNSPEC;
    if (spec.peer_up) peer_ifi->ifi_change = peer_ifi->ifi_flags = IFF_UP;
    req.put_str(IFLA_IFNAME, spec.peer_name);
    if (spec.mtu) req.put_u32(IFLA_MTU, spec.mtu);
    if (spec.peer_netns_fd >= 0)
        req.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peer_netns_fd));
    if (!spec.peer_mac.empty()) {
        auto mac = BERTH_TRY(parse_mac_address(spec.peer_mac));
        req.put(IFLA_ADDRESS, mac.data(), mac.size());
    }
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
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_change = (spec.up ? IFF_UP : 0) | (spec.promisc ? IFF_PROMISC : 0);
    ifi->ifi_flags = ifi->ifi_change;
    req.put_str(IFLA_IFNAME, spec.name);
    if (spec.mtu) req.put_u32(IFLA_MTU, spec.mtu);
    if (!spec.mac.empty()) {
        auto mac = BERTH_TRY(parse_mac_address(spec.mac));
        req.put(IFLA_ADDRESS, mac.data(), mac.size());
    }
    nlattr* linkinfo = req.nest_start(IFLA_LINKINFO);
    req.put_str(IFLA_INFO_KIND, "bridge");
    if (spec.vlan_filtering) {
        nlattr* data = req.nest_start(IFLA_INFO_DATA);
        req.put_u8(IFLA_BR_VLAN_FILTERING, 1);
        req.nest_end(data);
    }
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

Result<void> set_link_promisc(NetlinkSocket& nl, int index, bool on) {
    Request req = set_link_request(index);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(req.header()));
    ifi->ifi_change = IFF_PROMISC;
    ifi->ifi_flags = on ? IFF_PROMISC : 0;
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap(std::string(on ? "set promisc on " : "set promisc off ") +
                                         link_label(index));
    return {};
}

Result<void> set_link_mac(NetlinkSocket& nl, int index, std::string_view mac) {
    auto bytes = BERTH_TRY(parse_mac_address(mac));
    Request req = set_link_request(index);
    req.put(IFLA_ADDRESS, bytes.data(), bytes.size());
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap("set MAC " + std::string(mac) + " on " +
                                         link_label(index));
    return {};
}

namespace {

struct BridgeData {
    std::optional<bool> vlan_filtering;
};

int find_bridge_data(const nlattr* attr, void* data) {
    auto* out = static_cast<BridgeData*>(data);
    if (mnl_attr_get_type(attr) == IFLA_BR_VLAN_FILTERING &&
        mnl_attr_validate(attr, MNL_TYPE_U8) >= 0)
        out->vlan_filtering = mnl_attr_get_u8(attr) != 0;
    return MNL_CB_OK;
}

int find_info_data(const nlattr* attr, void* data) {
    if (mnl_attr_get_type(attr) == IFLA_INFO_DATA && mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0)
        mnl_attr_parse_nested(attr, find_bridge_data, data);
    return MNL_CB_OK;
}

}  // namespace

Result<bool> get_bridge_vlan_filtering(NetlinkSocket& nl, int bridge_index) {
    Request req(RTM_GETLINK, 0);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = bridge_index;
    req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    BridgeData found;
    auto r = nl.execute(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != RTM_NEWLINK) return {};
        LinkAttrs a;
        mnl_attr_parse(nlh, sizeof(ifinfomsg), collect_link_attr, &a);
        if (a.tb[IFLA_LINKINFO] && mnl_attr_validate(a.tb[IFLA_LINKINFO], MNL_TYPE_NESTED) >= 0)
            mnl_attr_parse_nested(a.tb[IFLA_LINKINFO], find_info_data, &found);
        return {};
    });
    if (!r) return std::move(r).error().wrap("get bridge " + link_label(bridge_index));
    if (!found.vlan_filtering)
        return Error(EINVAL) << link_label(bridge_index) << " is not a bridge";
    return *found.vlan_filtering;
}

Result<void> set_bridge_vlan_filtering(NetlinkSocket& nl, int bridge_index, bool on) {
    Request req = set_link_request(bridge_index);
    nlattr* linkinfo = req.nest_start(IFLA_LINKINFO);
    req.put_str(IFLA_INFO_KIND, "bridge");
    nlattr* data = req.nest_start(IFLA_INFO_DATA);
    req.put_u8(IFLA_BR_VLAN_FILTERING, on ? 1 : 0);
    req.nest_end(data);
    req.nest_end(linkinfo);
    auto r = nl.execute(req);
    if (!r)
        return std::move(r).error().wrap("set vlan_filtering on bridge " +
                                         link_label(bridge_index));
    return {};
}

Result<std::array<uint8_t, 6>> parse_mac_address(std::string_view text) {
    std::array<uint8_t, 6> out{};
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    bool ok = text.size() == 17;
    for (size_t i = 0; ok && i < 6; i++) {
        int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-'))
            ok = false;
        else
            out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (!ok) return Error(EINVAL) << "invalid MAC address \"" << text << "\"";
    return out;
}

std::string random_mac_address() {
    std::array<uint8_t, 6> b{};
    if (::getrandom(b.data(), b.size(), 0) != static_cast<ssize_t>(b.size())) {
        // Never short for 6 bytes once the pool is up; fall back to something distinct anyway.
        uint64_t t =
            static_cast<uint64_t>(::getpid()) << 32 ^ static_cast<uint64_t>(::time(nullptr));
        std::memcpy(b.data(), &t, b.size());
    }
    b[0] = static_cast<uint8_t>((b[0] & 0xfe) | 0x02);  // unicast, locally administered
    char text[18];
    std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                  b[5]);
    return text;
}

}  // namespace berth::net::netlink
