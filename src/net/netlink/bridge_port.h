// A bridge port's own settings: IFLA_BRPORT_* options (hairpin, learning, flooding, isolation...)
// and its VLAN membership, set in one AF_BRIDGE request and read back for CHECK. The link must
// already be enslaved to the bridge (link.h: set_link_master, or VethSpec::master).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

// Unset options are left as they are.
struct BridgePortOptions {
    std::optional<bool> hairpin;         // IFLA_BRPORT_MODE: send frames back out the same port
    std::optional<bool> learning;        // IFLA_BRPORT_LEARNING
    std::optional<bool> unicast_flood;   // IFLA_BRPORT_UNICAST_FLOOD
    std::optional<bool> isolated;        // IFLA_BRPORT_ISOLATED
    std::optional<bool> neigh_suppress;  // IFLA_BRPORT_NEIGH_SUPPRESS
};

// One VLAN id or, with last > first, an inclusive range (bridge_vlan_info RANGE_BEGIN/END).
struct BridgeVlan {
    uint16_t vid = 0;
    uint16_t last = 0;      // 0 or vid: a single id
    bool pvid = false;      // untagged ingress frames get this VLAN
    bool untagged = false;  // egress frames of this VLAN leave untagged
};

// Applies `options` and adds `vlans` to the port in one request.
Result<void> configure_bridge_port(NetlinkSocket& nl, int index, const BridgePortOptions& options,
                                   const std::vector<BridgeVlan>& vlans = {});
// Removes VLAN membership (pvid/untagged are ignored).
Result<void> delete_bridge_vlans(NetlinkSocket& nl, int index,
                                 const std::vector<BridgeVlan>& vlans);

struct BridgePortInfo {
    int index = 0;
    int master = 0;
    bool hairpin = false;
    bool learning = false;
    bool unicast_flood = false;
    bool isolated = false;
    bool neigh_suppress = false;
    uint8_t state = 0;  // BR_STATE_FORWARDING...
};
// ENODEV when the link is not a bridge port.
Result<BridgePortInfo> get_bridge_port(NetlinkSocket& nl, int index);

// The port's VLANs, one entry per id (ranges expanded).
Result<std::vector<BridgeVlan>> list_bridge_vlans(NetlinkSocket& nl, int index);

}  // namespace berth::net::netlink
