// Deleting conntrack entries over ctnetlink (NETLINK_NETFILTER): what a port mapping leaves
// behind for UDP, where an entry made before (or for) a mapping keeps steering packets after the
// mapping changed. Acts in the calling thread's network namespace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"

namespace berth::net::netlink {

// An original-direction destination: a port, and an address when set.
struct ConntrackDestination {
    uint16_t port = 0;
    std::optional<IpAddr> addr;
};

struct ConntrackFilter {
    int family = 0;                                  // AF_INET or AF_INET6
    uint8_t l4proto = 0;                             // IPPROTO_UDP...
    std::vector<ConntrackDestination> destinations;  // an entry matching any of them goes
};

// Deletes every entry whose original tuple matches, after one dump; returns how many went. Entries
// gone by the time of the delete are not an error; a kernel without conntrack has nothing to
// delete.
Result<size_t> delete_conntrack_entries(const ConntrackFilter& filter);

}  // namespace berth::net::netlink
