// ipMasq for the bridge plugin: source NAT (masquerade, fully-random ports) of packets leaving
// a container's subnet. Each network has its own table, `inet berth-masq-<network>`
// (element_table.h):
//   set masq4 / masq6        container addresses, each tagged with its attachment
//   set subnets4 / subnets6  the network's subnets (interval; added by every ADD, removed by GC)
//   chain postrouting (nat, srcnat), static:
//     ip saddr @masq4 ip daddr != @subnets4 ip daddr != 224.0.0.0/4 masquerade fully-random
//     ip6 saddr @masq6 ip6 daddr != @subnets6 ip6 daddr != ff00::/8 masquerade fully-random
// ADD and DEL are one transaction each, O(1) in the number of attachments, without listing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"
#include "net/nft/attachment.h"

namespace berth::net::nft {

// ipMasq of one attachment: packets from each of `addrs` (container addresses, with prefix) to
// destinations outside the network's subnets (and not multicast) are masqueraded with
// `fully-random` source ports (the cure for NAT source-port exhaustion).
struct MasqueradeSpec {
    std::string network;
    AttachmentId id;
    std::vector<IpNet> addrs;
};

// Idempotent.
Result<void> add_masquerade(const MasqueradeSpec& spec);
// ENOENT naming the table, set, chain or address that is missing.
Result<void> check_masquerade(const MasqueradeSpec& spec);
// Deletes the attachment's addresses: `addrs` when known (one transaction), else (or when one of
// them is missing) those found tagged with the attachment. Absent table or elements: success.
Result<void> del_masquerade(std::string_view network, const AttachmentId& id,
                            const std::vector<IpNet>& addrs = {});
// Removes the addresses of every attachment of `network` not in `valid`; the table when none
// is left.
Result<void> gc_masquerade(std::string_view network, const std::vector<AttachmentId>& valid);

// The table's name for `network` (family inet).
std::string masquerade_table(std::string_view network);

}  // namespace berth::net::nft
