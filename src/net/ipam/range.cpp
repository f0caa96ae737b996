#include "net/ipam/range.h"

namespace berth::net::ipam {

Result<void> Range::canonicalize() {
    int max = subnet.max_prefix_len();
    // A /31 or /32 (/127, /128) leaves nothing to hand out besides network and broadcast.
    if (subnet.prefix_len() > max - 2)
        return Error(EINVAL) << "Network " << subnet.str() << " too small to allocate from";
    if (subnet.addr() != subnet.network())
        return Error(EINVAL) << "Network has host bits set. For a subnet mask of length "
                             << subnet.prefix_len() << " the network address is "
                             << subnet.network().str();
    if (gateway && gateway->family() != subnet.family())
        return Error(EINVAL) << "gateway " << gateway->str() << " is not in the family of "
                             << subnet.str();
    if (!gateway) gateway = subnet.network().next();
    if (range_start) {
        if (!contains(*range_start))
            return Error(EINVAL) << "RangeStart " << range_start->str() << " not in network "
                                 << subnet.str();
    } else {
        range_start = subnet.network().next();
    }
    if (range_end) {
        if (!contains(*range_end))
            return Error(EINVAL) << "RangeEnd " << range_end->str() << " not in network "
                                 << subnet.str();
    } else {
        range_end = subnet.last();
        if (subnet.addr().is_v4()) range_end = range_end->prev();  // not the broadcast address
    }
    return {};
}

bool Range::contains(const IpAddr& ip) const {
    if (!subnet.contains(ip)) return false;
    if (range_start && ip < *range_start) return false;
    if (range_end && ip > *range_end) return false;
    return true;
}

bool Range::overlaps(const Range& o) const {
    if (subnet.family() != o.subnet.family()) return false;
    return contains(*o.range_start) || contains(*o.range_end) || o.contains(*range_start) ||
           o.contains(*range_end);
}

std::string Range::str() const {
    return (range_start ? range_start->str() : "?") + "-" + (range_end ? range_end->str() : "?");
}

Result<void> canonicalize(RangeSet& set) {
    if (set.empty()) return Error(EINVAL) << "empty range set";
    for (Range& r : set) {
        if (r.subnet.family() != set[0].subnet.family())
            return Error(EINVAL) << "mixed address families";
        BERTH_TRY(r.canonicalize());
    }
    for (size_t i = 0; i < set.size(); i++)
        for (size_t j = i + 1; j < set.size(); j++)
            if (set[i].overlaps(set[j]))
                return Error(EINVAL) << "subnets " << set[i].subnet.str() << " and "
                                     << set[j].subnet.str() << " overlap";
    return {};
}

bool contains(const RangeSet& set, const IpAddr& ip) {
    return range_for(set, ip).ok();
}

Result<const Range*> range_for(const RangeSet& set, const IpAddr& ip) {
    for (const Range& r : set)
        if (r.contains(ip)) return &r;
    return Error(ENOENT) << ip.str() << " not in range set " << to_string(set);
}

std::string to_string(const RangeSet& set) {
    std::string s;
    for (const Range& r : set) {
        if (!s.empty()) s += ",";
        s += r.str();
    }
    return s;
}

}  // namespace berth::net::ipam
