// Forwarding database entries (AF_BRIDGE neighbours): which port or remote a MAC lives behind.
// On a bridge port with NTF_MASTER the bridge's table is changed (optionally per VLAN); with
// NTF_SELF the device's own table, which for a VXLAN device maps a MAC to the remote VTEP
// (NDA_DST). The all-zeros MAC with several appended remotes floods broadcast and unknown
// unicast to each of them: the static overlay between hosts.
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

// ndm_state values as `bridge fdb` names them.
inline constexpr uint16_t kFdbPermanent = NUD_PERMANENT;  // "permanent": a local address
inline constexpr uint16_t kFdbStatic = NUD_NOARP;         // "static": never ages (bridge)
inline constexpr uint16_t kFdbDynamic = NUD_REACHABLE;    // ages like a learnt entry

struct FdbEntry {
    int index = 0;  // the bridge port or the vxlan device
    MacAddr mac;
    // VXLAN: the remote VTEP, its UDP port (host order), VNI, and the outgoing interface.
    std::optional<IpAddr> dst;
    std::optional<uint16_t> port;
    std::optional<uint32_t> vni;
    int via = 0;                   // NDA_IFINDEX
    std::optional<uint16_t> vlan;  // bridge: the VLAN the entry belongs to
    // VXLAN accepts only permanent or dynamic; a bridge also takes static.
    uint16_t state = kFdbPermanent;
    uint8_t flags = NTF_SELF;  // NTF_SELF (the device's table) or NTF_MASTER (its bridge's)
    int master = 0;            // listed entries: the bridge (NDA_MASTER), 0 if none

    // "00:00:00:00:00:00 dev 5 dst 10.0.0.2 self permanent" for messages.
    std::string str() const;
};

// EEXIST when an entry for the MAC (and VLAN) exists.
Result<void> add_fdb(NetlinkSocket& nl, const FdbEntry& entry);
// VXLAN: adds another remote for the MAC rather than replacing it (`bridge fdb append`).
Result<void> append_fdb(NetlinkSocket& nl, const FdbEntry& entry);
// Creates the entry or overwrites the existing one's destination.
Result<void> replace_fdb(NetlinkSocket& nl, const FdbEntry& entry);
// Matches on index, MAC, flags and VLAN; for VXLAN, a `dst` deletes only that remote.
Result<void> delete_fdb(NetlinkSocket& nl, const FdbEntry& entry);

struct FdbFilter {
    int index = 0;   // only entries on this port/device
    int master = 0;  // only entries of ports of this bridge
};
Result<std::vector<FdbEntry>> list_fdb(NetlinkSocket& nl, const FdbFilter& filter = {});

}  // namespace berth::net::netlink
