// ipMasq for the bridge plugin: source NAT (masquerade, fully-random ports) of packets leaving
// a container's subnet. Each network has its own table, `inet berth-masq-<network>`, with one
// nat postrouting chain; the rules of an attachment carry its tag (attachment.h) as comment.
// Every call is one nftables transaction in the calling thread's network namespace.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"
#include "net/nft/attachment.h"

namespace berth::net::nft {

// ipMasq of one attachment: packets from each of `addrs` (container addresses, with prefix) to
// destinations outside that prefix (and not multicast) are masqueraded with `fully-random`
// source ports (the cure for NAT source-port exhaustion).
struct MasqueradeSpec {
    std::string network;
    AttachmentId id;
    std::vector<IpNet> addrs;
};

// Idempotent: a second ADD replaces the attachment's rules (in the same transaction).
Result<void> add_masquerade(const MasqueradeSpec& spec);
// ENOENT naming the table, chain or address whose rule is missing.
Result<void> check_masquerade(const MasqueradeSpec& spec);
// Absent table or rules: success.
Result<void> del_masquerade(std::string_view network, const AttachmentId& id);
// Removes the rules of every attachment of `network` not in `valid`.
Result<void> gc_masquerade(std::string_view network, const std::vector<AttachmentId>& valid);

// The table's name for `network` (family inet).
std::string masquerade_table(std::string_view network);

}  // namespace berth::net::nft
