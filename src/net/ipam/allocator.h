// host-local's allocation logic over a Store: round-robin from the address after the last one
// reserved, a requested address when the runtime asks for one, release by (container id, ifname),
// and garbage collection against the runtime's list of valid attachments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/ipam/range.h"
#include "net/ipam/store.h"

namespace berth::net::ipam {

struct Allocation {
    IpNet address;  // the address with its subnet's prefix length
    std::optional<IpAddr> gateway;
};

// Allocates from one canonicalized range set; range_index names its last_reserved_ip file.
// Callers hold the store's lock.
class Allocator {
  public:
    Allocator(const RangeSet& ranges, Store& store, int range_index)
        : ranges_(ranges), store_(store), range_id_(std::to_string(range_index)) {}

    // requested: that address or an error (EADDRINUSE when taken). Otherwise the next free one
    // after the last reserved, wrapping around the set once; ENOSPC when none is left. A second
    // allocation for the same (id, ifname) in this set is refused (EEXIST), as the spec requires.
    Result<Allocation> allocate(const std::string& id, const std::string& ifname,
                                const std::optional<IpAddr>& requested = std::nullopt);

  private:
    Result<Allocation> allocate_requested(const std::string& id, const std::string& ifname,
                                          const IpAddr& requested);
    const RangeSet& ranges_;
    Store& store_;
    std::string range_id_;
};

// One address from each range set (index i uses last_reserved_ip.i), under one lock. Each
// requested address goes to the set that contains it; one that fits no set is an error. On any
// failure the addresses already reserved by this call are released again.
Result<std::vector<Allocation>> allocate_all(const std::vector<RangeSet>& range_sets, Store& store,
                                             const std::string& id, const std::string& ifname,
                                             const std::vector<IpAddr>& requested = {});

// Releases every address held by (id, ifname); none held is success.
Result<void> release_all(Store& store, const std::string& id, const std::string& ifname);

struct Attachment {
    std::string container_id;
    std::string ifname;
};
// Releases every reservation whose (id, ifname) is not in `valid`; returns what it released.
Result<std::vector<Reservation>> garbage_collect(Store& store,
                                                 const std::vector<Attachment>& valid);

}  // namespace berth::net::ipam
