// Routes in the main table (or another): add, delete, list. A default route via a gateway, a
// route to a subnet through a link, and on-link gateways (RTNH_F_ONLINK) for gateways outside
// every local subnet.
#pragma once

#include <linux/rtnetlink.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

struct Route {
    IpNet destination;  // prefix length 0: the default route
    std::optional<IpAddr> gateway;
    int oif = 0;            // output link index, 0: let the kernel choose
    bool on_link = false;   // the gateway is reachable on oif without a subnet route
    uint32_t priority = 0;  // metric
    uint32_t table = RT_TABLE_MAIN;
    uint8_t protocol = RTPROT_BOOT;  // what `ip route add` uses
    // Unset: RT_SCOPE_UNIVERSE with a gateway, RT_SCOPE_LINK without.
    std::optional<uint8_t> scope;
    uint8_t type = RTN_UNICAST;

    int family() const { return destination.family(); }
    std::string str() const;  // "default via 10.0.0.1 dev 4" for messages
};

// A default route of the gateway's family through oif.
Route default_route(const IpAddr& gateway, int oif);

Result<void> add_route(NetlinkSocket& nl, const Route& route);
Result<void> delete_route(NetlinkSocket& nl, const Route& route);
// Unicast routes of `family` (AF_INET or AF_INET6) in `table`.
Result<std::vector<Route>> list_routes(NetlinkSocket& nl, int family,
                                       uint32_t table = RT_TABLE_MAIN);

}  // namespace berth::net::netlink
