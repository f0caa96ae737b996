// macspoofchk for the bridge plugin: frames entering the bridge from a container's host-side
// veth are dropped unless their source MAC is the container's. Each network has its own table,
// `bridge berth-macspoof-<network>`, with a filter prerouting chain; the rules of an attachment
// carry its tag (attachment.h) as comment. One transaction per call, in the calling thread's
// network namespace.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/nft/attachment.h"

namespace berth::net::nft {

// Frames entering the bridge from host-side veth `host_ifname` whose source MAC is not `mac`
// ("aa:bb:cc:dd:ee:ff") are dropped.
struct MacSpoofSpec {
    std::string network;
    AttachmentId id;
    std::string host_ifname;
    std::string mac;
};

// Idempotent: a second ADD replaces the attachment's rules.
Result<void> add_mac_spoof_check(const MacSpoofSpec& spec);
// ENOENT when the attachment's rule is missing.
Result<void> check_mac_spoof_check(const MacSpoofSpec& spec);
// Absent table or rules: success.
Result<void> del_mac_spoof_check(std::string_view network, const AttachmentId& id);
Result<void> gc_mac_spoof_check(std::string_view network, const std::vector<AttachmentId>& valid);

// The table's name for `network` (family bridge).
std::string mac_spoof_table(std::string_view network);

}  // namespace berth::net::nft
