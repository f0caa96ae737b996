// macspoofchk for the bridge plugin: frames entering the bridge from a container's host-side
// veth are dropped unless their source MAC is the container's. Each network has its own table,
// `bridge berth-macspoof-<network>` (element_table.h):
//   set checked { type ifname }                  host veths under the check (tagged)
//   set allowed { type ifname . ether_addr }     each one's MAC (tagged)
//   chain prerouting (filter, -300), static:
//     iifname @checked iifname . ether saddr != @allowed drop
// ADD and DEL are one transaction each, in the calling thread's network namespace.
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

// Idempotent.
Result<void> add_mac_spoof_check(const MacSpoofSpec& spec);
// ENOENT when the attachment's elements are missing.
Result<void> check_mac_spoof_check(const MacSpoofSpec& spec);
// With spec.mac known: one transaction by key; otherwise (or when an element is missing) the
// elements found tagged with the attachment. Absent table or elements: success.
Result<void> del_mac_spoof_check(const MacSpoofSpec& spec);
Result<void> gc_mac_spoof_check(std::string_view network, const std::vector<AttachmentId>& valid);

// The table's name for `network` (family bridge).
std::string mac_spoof_table(std::string_view network);

}  // namespace berth::net::nft
