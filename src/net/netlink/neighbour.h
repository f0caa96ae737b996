// The IPv4 ARP and IPv6 ND neighbour tables: IP address to MAC on an interface. Add, replace,
// delete, list. Bridge/VXLAN forwarding entries (AF_BRIDGE neighbours) are in fdb.h.
#pragma once

#include <linux/neighbour.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"
#include "net/netlink/mac.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

struct Neighbour {
    int index = 0;               // the interface
    IpAddr ip;                   // its family picks the table (ARP or ND)
    std::optional<MacAddr> mac;  // NDA_LLADDR; absent while unresolved (INCOMPLETE, FAILED)
    // NUD_PERMANENT (never expires), NUD_REACHABLE (until it ages), NUD_NOARP (no resolution),
    // NUD_STALE...; a dump returns whatever the kernel holds.
    uint16_t state = NUD_PERMANENT;
    uint8_t flags = 0;  // NTF_ROUTER, NTF_PROXY, NTF_EXT_LEARNED...

    // "10.0.0.2 lladdr aa:bb:cc:dd:ee:ff dev 4" for messages.
    std::string str() const;
};

// Fails with EEXIST when an entry for the address exists on the interface.
Result<void> add_neighbour(NetlinkSocket& nl, const Neighbour& neighbour);
// Creates the entry or overwrites the existing one (`ip neigh replace`).
Result<void> replace_neighbour(NetlinkSocket& nl, const Neighbour& neighbour);
// flags: NTF_PROXY to delete a proxy entry; else 0.
Result<void> delete_neighbour(NetlinkSocket& nl, int index, const IpAddr& ip, uint8_t flags = 0);
// family: AF_INET, AF_INET6 or AF_UNSPEC (both); index 0: every interface. Proxy entries are not
// listed.
Result<std::vector<Neighbour>> list_neighbours(NetlinkSocket& nl, int family, int index = 0);

}  // namespace berth::net::netlink
