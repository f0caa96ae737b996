// berth-portmap's nftables layout. One table per network, `inet berth-pm-<network>`:
//   prerouting  nat, dstnat   fib daddr type local jump hostports    (from other hosts, containers)
//   output      nat, -100     fib daddr type local jump hostports    (from the node, 127.0.0.1 too)
//   hostports   per mapping:  [ip daddr H] <proto> dport P dnat to C:CP          (tagged)
//   postrouting nat, srcnat   per container address, when snat is on:            (tagged)
//       ip daddr C ip saddr { 127.0.0.0/8, C's subnet } ct status dnat masquerade
// The masquerade covers exactly the DNATed connections whose replies would not come back
// through the node's NAT otherwise: from 127.0.0.1 (not routable to the container), from the
// container itself (hairpin) and from its subnet neighbours (they answer each other on the
// bridge directly). Connections from elsewhere keep their source address.
#pragma once

#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/nft/owned_table.h"
#include "net/portmap/config.h"

namespace berth::net::portmap {

nft::OwnedTable portmap_table(std::string_view network);

// The tagged rules of one attachment; EINVAL when there are mappings but no container address.
Result<std::vector<nft::RuleText>> portmap_rules(const PortmapConfig& config);

}  // namespace berth::net::portmap
