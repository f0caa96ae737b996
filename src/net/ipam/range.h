// Address ranges for host-local IPAM: a subnet with an optional start, end and gateway, and
// range sets (several non-overlapping ranges of one family that allocate as one pool).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"

namespace berth::net::ipam {

struct Range {
    IpNet subnet;
    std::optional<IpAddr> range_start;  // inclusive; default: the subnet's first host
    std::optional<IpAddr> range_end;    // inclusive; default: the last host (IPv4 broadcast - 1)
    std::optional<IpAddr> gateway;      // default: the subnet's first host

    // Checks the range and fills in the defaults; after it, the three optionals are set.
    Result<void> canonicalize();
    // In the subnet and between start and end (where set).
    bool contains(const IpAddr& ip) const;
    bool overlaps(const Range& other) const;
    // "10.1.2.1-10.1.2.254", as the reference names ranges in errors.
    std::string str() const;
};

using RangeSet = std::vector<Range>;

// Canonicalizes every range; the set must be non-empty, single-family and non-overlapping.
Result<void> canonicalize(RangeSet& set);
bool contains(const RangeSet& set, const IpAddr& ip);
// The range holding ip; ENOENT "<ip> not in range set <set>" when none does.
Result<const Range*> range_for(const RangeSet& set, const IpAddr& ip);
std::string to_string(const RangeSet& set);

}  // namespace berth::net::ipam
