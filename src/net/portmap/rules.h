// berth-portmap's nftables layout: one table per network, `inet berth-pm-<network>`, whose
// rules never change after it is created; each published port is an ELEMENT of a map, tagged
// with its attachment (nft/element_table.h), so ADD and DEL are one O(1) transaction each.
//   maps (key : container address . container port)
//     hp4_any  inet_proto . inet_service                  (no hostIP, or 0.0.0.0)
//     hp4_ip   ipv4_addr . inet_proto . inet_service       (hostIP)
//     hp6_any, hp6_ip                                     the same for IPv6
//   sets
//     own4, own6  host address . proto . host port . container address . container port: which
//                 mapping an attachment made (0.0.0.0 / :: for "any"). DEL deletes it with the
//                 map element in one transaction, so a DEL never removes a host port that
//                 another attachment holds: the transaction fails and DEL falls back to the
//                 elements tagged with its own attachment.
//     subnets4, subnets6  (interval) the subnets of containers with snat, added by every ADD
//                 with snat, removed only with the table (GC)
//   chains
//     prerouting  nat, dstnat   fib daddr type local jump hostports  (other hosts, containers)
//     output      nat, -100     fib daddr type local jump hostports  (the node, 127.0.0.1 too)
//     hostports   dnat ip to ip daddr . meta l4proto . th dport map @hp4_ip
//                 dnat ip to meta l4proto . th dport map @hp4_any      (and ip6 likewise)
//     postrouting nat, srcnat
//                 ct status dnat ip daddr @subnets4 ip saddr 127.0.0.0/8 masquerade
//                 ct status dnat ip daddr @subnets4 ip saddr @subnets4 masquerade
//                 ct status dnat ip6 daddr @subnets6 ip6 saddr @subnets6 masquerade
// The masquerade covers exactly the DNATed connections whose replies would not come back
// through the node's NAT otherwise: from 127.0.0.1 (not routable to the container), from the
// container itself (hairpin) and from its subnet neighbours (they answer each other on the
// bridge directly). Connections from elsewhere keep their source address.
#pragma once

#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/nft/element_table.h"
#include "net/portmap/config.h"

namespace berth::net::portmap {

nft::StaticTable portmap_table(std::string_view network);

// The elements of one attachment (map entries, ownership entries, and with snat the subnets);
// EINVAL when there are mappings but no container address.
Result<std::vector<nft::Element>> portmap_elements(const PortmapConfig& config);

}  // namespace berth::net::portmap
