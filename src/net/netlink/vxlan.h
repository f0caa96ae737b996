// VXLAN links: an L2 overlay over UDP. The device's default destination is either one unicast
// remote or a multicast group; cross-host overlays usually set neither and give each peer an FDB
// entry instead (fdb.h), with learning off.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/ip/addr.h"
#include "net/netlink/mac.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

struct VxlanSpec {
    std::string name;
    uint32_t vni = 0;              // 24 bits
    std::optional<IpAddr> local;   // source address of the outer packets
    std::optional<IpAddr> remote;  // unicast default destination; exclusive with group
    std::optional<IpAddr> group;   // multicast group to join; needs `link`
    uint16_t dst_port = 4789;      // IANA's; Linux's own default (8472) is never implied
    int link = 0;                  // underlying device index; 0: routed by the outer address
    bool learning = true;          // learn remote MACs from received packets
    std::optional<uint8_t> ttl;    // unset: the kernel's default (1 for multicast, else 64)
    std::optional<uint8_t> tos;
    std::optional<uint32_t> ageing;  // seconds a learnt FDB entry lives
    // UDP checksums: unset leaves the kernel's default (IPv4 none; IPv6 required both ways).
    std::optional<bool> udp_csum;           // compute checksums over IPv4
    std::optional<bool> udp6_zero_csum_tx;  // send zero checksums over IPv6
    std::optional<bool> udp6_zero_csum_rx;  // accept zero checksums over IPv6
    bool proxy = false;                     // answer ARP/ND from the neighbour table
    bool l2miss = false;                    // notify user space of FDB misses
    bool l3miss = false;                    // notify user space of neighbour misses
    uint32_t mtu = 0;  // 0: the kernel's (underlying MTU less the 50/70-byte overhead)
    std::optional<MacAddr> mac;
};

// Checks the spec (VNI range, address families, remote vs group) before asking the kernel.
Result<void> create_vxlan(NetlinkSocket& nl, const VxlanSpec& spec);

// A VXLAN link's settings as the kernel reports them (IFLA_INFO_DATA).
struct VxlanInfo {
    int index = 0;
    uint32_t vni = 0;
    std::optional<IpAddr> local;
    std::optional<IpAddr> remote;  // IFLA_VXLAN_GROUP(6) holding a unicast address
    std::optional<IpAddr> group;   // ... or a multicast one
    uint16_t dst_port = 0;
    int link = 0;
    bool learning = false;
    uint8_t ttl = 0;
    uint8_t tos = 0;
    uint32_t ageing = 0;
    bool udp_csum = false;
    bool udp6_zero_csum_tx = false;
    bool udp6_zero_csum_rx = false;
    bool proxy = false;
    bool l2miss = false;
    bool l3miss = false;
};

// EMEDIUMTYPE when the link exists but is not a vxlan; ENODEV when it does not exist.
Result<VxlanInfo> get_vxlan(NetlinkSocket& nl, std::string_view name);

}  // namespace berth::net::netlink
