// Links: look up, list, create (veth, bridge), configure (up/down, MTU, master), move to another
// network namespace, delete. Every call acts in the namespace of the socket it is given.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

struct LinkInfo {
    int index = 0;
    std::string name;
    std::string kind;    // IFLA_INFO_KIND: "veth", "bridge"...; empty for loopback
    unsigned flags = 0;  // IFF_UP, IFF_LOOPBACK...
    uint32_t mtu = 0;
    int master = 0;  // index of the bridge it is enslaved to, 0 if none
    int parent = 0;  // IFLA_LINK: a veth's peer index (in the peer's namespace)
    std::optional<int32_t> link_netnsid;  // set when the peer lives in another namespace
    std::string mac;                      // "aa:bb:cc:dd:ee:ff"; empty when the link has none
    uint8_t operstate = 0;                // IF_OPER_UP...

    bool up() const;
};

Result<LinkInfo> get_link(NetlinkSocket& nl, std::string_view name);
Result<LinkInfo> get_link(NetlinkSocket& nl, int index);
Result<std::vector<LinkInfo>> list_links(NetlinkSocket& nl);

struct VethSpec {
    std::string name;  // the end created in the socket's namespace
    std::string peer_name;
    uint32_t mtu = 0;  // 0: kernel default; applied to both ends
    // When valid, the peer is created directly in this namespace (IFLA_NET_NS_FD).
    int peer_netns_fd = -1;
    // Enslaved to this bridge (IFLA_MASTER) in the same request that creates it, so no process
    // killed in between can leave a veth that is on no bridge.
    int master = 0;
    bool up = false;       // the end in the socket's namespace starts up
    bool peer_up = false;  // and the peer
    std::string peer_mac;  // "aa:bb:cc:dd:ee:ff" for the peer; empty: kernel random
};
Result<void> create_veth(NetlinkSocket& nl, const VethSpec& spec);

struct BridgeSpec {
    std::string name;
    uint32_t mtu = 0;
    bool up = false;
    bool promisc = false;
    bool vlan_filtering = false;  // IFLA_BR_VLAN_FILTERING
    // Set at creation: a bridge with an assigned MAC keeps it, instead of taking the lowest MAC
    // of its ports and changing as ports come and go. Empty: kernel random (and changing).
    std::string mac;
};
Result<void> create_bridge(NetlinkSocket& nl, const BridgeSpec& spec);

Result<void> set_link_up(NetlinkSocket& nl, int index, bool up);
Result<void> set_link_mtu(NetlinkSocket& nl, int index, uint32_t mtu);
// Enslaves the link to a bridge; master_index 0 releases it.
Result<void> set_link_master(NetlinkSocket& nl, int index, int master_index);
// Moves the link into `netns`, renaming it there when new_name is not empty.
Result<void> move_link_to_netns(NetlinkSocket& nl, int index, BorrowedFd netns,
                                std::string_view new_name = {});
Result<void> delete_link(NetlinkSocket& nl, int index);

// IFF_PROMISC on or off.
Result<void> set_link_promisc(NetlinkSocket& nl, int index, bool on);
// Sets the link's hardware address ("aa:bb:cc:dd:ee:ff").
Result<void> set_link_mac(NetlinkSocket& nl, int index, std::string_view mac);
// A bridge's IFLA_BR_VLAN_FILTERING, read and set.
Result<bool> get_bridge_vlan_filtering(NetlinkSocket& nl, int bridge_index);
Result<void> set_bridge_vlan_filtering(NetlinkSocket& nl, int bridge_index, bool on);

// "aa:bb:cc:dd:ee:ff" (or with '-') as 6 bytes; EINVAL otherwise.
Result<std::array<uint8_t, 6>> parse_mac_address(std::string_view text);
// A random locally administered unicast MAC, as the kernel's eth_random_addr makes.
std::string random_mac_address();

}  // namespace berth::net::netlink
