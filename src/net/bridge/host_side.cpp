#include "net/bridge/host_side.h"

#include <linux/if.h>
#include <sys/socket.h>

#include "net/bridge/naming.h"
#include "net/netlink/address.h"
#include "net/netlink/bridge_port.h"
#include "net/netlink/sysctl.h"

namespace berth::net::bridge {

using netlink::LinkInfo;
using netlink::NetlinkSocket;

Result<LinkInfo> ensure_bridge(NetlinkSocket& nl, const BridgeConfig& conf) {
    auto found = netlink::get_link(nl, conf.bridge);
    if (!found && found.error().errno_value() == ENODEV) {
        netlink::BridgeSpec spec{.name = conf.bridge,
                                 .mtu = conf.mtu,
                                 .up = true,
                                 .promisc = conf.promisc,
                                 .vlan_filtering = conf.vlan_filtering(),
                                 .mac = netlink::random_mac_address()};
        auto created = netlink::create_bridge(nl, spec);
        if (!created && created.error().errno_value() == EOPNOTSUPP && spec.vlan_filtering)
            return std::move(created).error().wrap(
                "VLAN filtering (a kernel without CONFIG_BRIDGE_VLAN_FILTERING?)");
        // Another ADD may have created it first: then it is used as it is found.
        if (!created && created.error().errno_value() != EEXIST) return std::move(created).error();
        found = netlink::get_link(nl, conf.bridge);
        if (found && created) return found;
    }
    if (!found) return std::move(found).error();
    LinkInfo br = std::move(found).value();
    if (br.kind != "bridge")
        return Error(EEXIST) << "\"" << conf.bridge << "\" already exists but is not a bridge";
    if (conf.promisc && !(br.flags & IFF_PROMISC))
        BERTH_TRY(netlink::set_link_promisc(nl, br.index, true));
    if (conf.vlan_filtering() && !BERTH_TRY(netlink::get_bridge_vlan_filtering(nl, br.index)))
        BERTH_TRY(netlink::set_bridge_vlan_filtering(nl, br.index, true));
    if (!br.up()) BERTH_TRY(netlink::set_link_up(nl, br.index, true));
    return br;
}

Result<LinkInfo> ensure_gateway_link(NetlinkSocket& nl, const BridgeConfig& conf,
                                     const LinkInfo& bridge) {
    if (conf.vlan == 0) return bridge;
    std::string name = conf.bridge + "." + std::to_string(conf.vlan);
    std::string port = vlan_gateway_port_name(conf.bridge, conf.vlan);
    auto found = netlink::get_link(nl, name);
    if (!found && found.error().errno_value() == ENODEV) {
        netlink::VethSpec spec{.name = port, .peer_name = name, .mtu = conf.mtu};
        spec.master = bridge.index;
        spec.up = true;
        spec.peer_up = true;
        auto created = netlink::create_veth(nl, spec);
        if (!created && created.error().errno_value() != EEXIST) return std::move(created).error();
        found = netlink::get_link(nl, name);
    }
    if (!found) return std::move(found).error();
    // Every time: an ADD killed right after creating the pair left the port outside the VLAN.
    auto port_link = BERTH_TRY(netlink::get_link(nl, port));
    BERTH_TRY(netlink::configure_bridge_port(nl, port_link.index, {},
                                             {{.vid = conf.vlan, .pvid = true, .untagged = true}}));
    return found;
}

Result<void> ensure_gateway_addresses(NetlinkSocket& nl, const LinkInfo& link,
                                      const std::vector<IpNet>& gateways, bool force_address) {
    if (gateways.empty()) return {};
    auto present = BERTH_TRY(netlink::list_addresses(nl, AF_UNSPEC, link.index));
    for (const IpNet& gw : gateways) {
        bool have = false;
        for (const auto& a : present) {
            if (a.address.family() != gw.family()) continue;
            if (a.address == gw) {
                have = true;
                break;
            }
            bool conflict =
                gw.addr().is_v4() || a.address.contains(gw.addr()) || gw.contains(a.address.addr());
            if (!conflict) continue;
            if (!force_address)
                return Error(EEXIST) << "\"" << link.name << "\" already has an IP address "
                                     << a.address.str() << " different from " << gw.str();
            auto r = netlink::delete_address(nl, link.index, a.address);
            if (!r && r.error().errno_value() != EADDRNOTAVAIL) return std::move(r).error();
        }
        if (have) continue;
        // No DAD on the gateway: containers would otherwise wait a second to reach it.
        auto r = netlink::add_address(nl, link.index, gw, {.no_dad = true});
        if (!r && r.error().errno_value() != EEXIST) return std::move(r).error();
    }
    return {};
}

Result<void> enable_forwarding(bool ipv4, bool ipv6) {
    if (ipv4) BERTH_TRY(sysctl::ensure("net/ipv4/ip_forward", "1"));
    if (ipv6) BERTH_TRY(sysctl::ensure("net/ipv6/conf/all/forwarding", "1"));
    return {};
}

}  // namespace berth::net::bridge
