// The bridge plugin's work in the host's (the plugin's own) network namespace: the bridge, its
// gateway addresses (on the bridge, or on "<bridge>.<vlan>" for a VLAN network), forwarding.
#pragma once

#include <vector>

#include "base/result.h"
#include "net/bridge/config.h"
#include "net/netlink/link.h"
#include "net/netlink/socket.h"

namespace berth::net::bridge {

// The bridge, created when missing (up, with a fixed MAC, promisc and VLAN filtering as
// configured) or brought to that state; EEXIST when the name is taken by a link of another kind.
// Safe against concurrent ADDs creating it at once.
Result<netlink::LinkInfo> ensure_bridge(netlink::NetlinkSocket& nl, const BridgeConfig& conf);

// The link that carries the gateway addresses: the bridge itself, or for a VLAN network a veth
// "<bridge>.<vlan>" whose other end is a port of the bridge in that VLAN (created when missing).
Result<netlink::LinkInfo> ensure_gateway_link(netlink::NetlinkSocket& nl, const BridgeConfig& conf,
                                              const netlink::LinkInfo& bridge);

// Puts each gateway address on `link`. An address of the same family already there that would
// conflict (any other IPv4 address; an overlapping IPv6 one) is replaced when force_address, and
// is an error otherwise, as the reference plugin does.
Result<void> ensure_gateway_addresses(netlink::NetlinkSocket& nl, const netlink::LinkInfo& link,
                                      const std::vector<IpNet>& gateways, bool force_address);

// net.ipv4.ip_forward / net.ipv6.conf.all.forwarding on in the calling thread's namespace,
// written only when off.
Result<void> enable_forwarding(bool ipv4, bool ipv6);

}  // namespace berth::net::bridge
