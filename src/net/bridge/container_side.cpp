#include "net/bridge/container_side.h"

#include <sys/socket.h>

#include <optional>

#include "net/netlink/address.h"
#include "net/netlink/route.h"
#include "net/netlink/sysctl.h"

namespace berth::net::bridge {

using netlink::NetlinkSocket;

namespace {

std::optional<IpAddr> first_gateway(const std::vector<cni::IpConfig>& ips, int family) {
    for (const auto& ip : ips)
        if (ip.gateway && ip.gateway->family() == family) return ip.gateway;
    return std::nullopt;
}

netlink::Route to_route(const cni::RouteConfig& rc, const std::vector<cni::IpConfig>& ips,
                        int oif) {
    netlink::Route rt;
    rt.destination = rc.dst.masked();
    rt.gateway = rc.gw ? rc.gw : first_gateway(ips, rc.dst.family());
    rt.oif = oif;
    if (rc.priority) rt.priority = *rc.priority;
    if (rc.table) rt.table = *rc.table;
    if (rc.scope) rt.scope = *rc.scope;
    return rt;
}

}  // namespace

Result<netlink::LinkInfo> configure_container(const ContainerPlan& plan) {
    NetlinkSocket nl = BERTH_TRY(NetlinkSocket::open());
    netlink::LinkInfo link = BERTH_TRY(netlink::get_link(nl, plan.ifname));
    bool any_v6 = false;
    for (const auto& ip : plan.ips) any_v6 |= !ip.address.addr().is_v4();
    if (any_v6) {
        // A namespace may come with IPv6 off for its interfaces; an IPv6 address needs it on.
        std::string key = BERTH_TRY(sysctl::ipv6_conf_key(plan.ifname, "disable_ipv6"));
        auto off = sysctl::read(key);
        if (off && *off != "0") BERTH_TRY(sysctl::write(key, "0"));
        // Before the link goes up, so its link-local address skips DAD too.
        if (!plan.enable_dad)
            BERTH_TRY(
                sysctl::ensure(BERTH_TRY(sysctl::ipv6_conf_key(plan.ifname, "accept_dad")), "0"));
    }
    for (const auto& ip : plan.ips) {
        auto r = netlink::add_address(nl, link.index, ip.address, {.no_dad = !plan.enable_dad});
        if (!r && r.error().errno_value() != EEXIST) return std::move(r).error();
    }
    if (plan.leave_down) return link;
    BERTH_TRY(netlink::set_link_up(nl, link.index, true));
    for (const auto& rc : plan.routes) {
        auto r = netlink::add_route(nl, to_route(rc, plan.ips, link.index));
        // The first of two equal routes wins, as with the reference plugin.
        if (!r && r.error().errno_value() != EEXIST) return std::move(r).error();
    }
    return link;
}

Result<void> check_container(const ContainerExpect& expect) {
    NetlinkSocket nl = BERTH_TRY(NetlinkSocket::open());
    auto found = netlink::get_link(nl, expect.ifname);
    if (!found) return std::move(found).error().wrap("container interface");
    const netlink::LinkInfo& link = *found;
    if (link.kind != "veth")
        return Error(EINVAL) << "container interface " << expect.ifname << " is a "
                             << (link.kind.empty() ? "non-veth" : link.kind) << " link, not a veth";
    if (!expect.mac.empty() && link.mac != expect.mac)
        return Error(EINVAL) << "container interface " << expect.ifname << " has MAC " << link.mac
                             << ", expected " << expect.mac;
    if (expect.host_index && link.parent != expect.host_index)
        return Error(EINVAL) << "container interface " << expect.ifname
                             << " is not the peer of the host veth (peer index " << link.parent
                             << ", expected " << expect.host_index << ")";
    auto addrs = BERTH_TRY(netlink::list_addresses(nl, AF_UNSPEC, link.index));
    for (const auto& ip : expect.ips) {
        bool have = false;
        for (const auto& a : addrs) have |= a.address == ip.address;
        if (!have)
            return Error(ENOENT) << "container interface " << expect.ifname << " lacks address "
                                 << ip.address.str();
    }
    std::optional<std::vector<netlink::Route>> v4, v6;
    for (const auto& rc : expect.routes) {
        auto& table = rc.dst.addr().is_v4() ? v4 : v6;
        if (!table) table = BERTH_TRY(netlink::list_routes(nl, rc.dst.family()));
        netlink::Route want = to_route(rc, expect.ips, link.index);
        bool have = false;
        for (const auto& r : *table)
            have |= r.destination.masked() == want.destination &&
                    (!rc.gw || r.gateway == want.gateway) && (!r.oif || r.oif == link.index);
        if (!have) return Error(ENOENT) << "container route " << want.str() << " is missing";
    }
    return {};
}

Result<void> delete_container_veth(const std::string& ifname) {
    NetlinkSocket nl = BERTH_TRY(NetlinkSocket::open());
    auto found = netlink::get_link(nl, ifname);
    if (!found) return found.error().errno_value() == ENODEV ? Result<void>() : found.error();
    if (found->kind != "veth") return {};
    auto r = netlink::delete_link(nl, found->index);
    if (!r && r.error().errno_value() != ENODEV) return r;
    return {};
}

}  // namespace berth::net::bridge
