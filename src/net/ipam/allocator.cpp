#include "net/ipam/allocator.h"

#include <algorithm>

#include "base/scope_guard.h"

namespace berth::net::ipam {

namespace {

// A position in the range set: which range, which address.
struct Cursor {
    size_t range = 0;
    IpAddr ip;
    bool operator==(const Cursor&) const = default;
};

Cursor advance(const RangeSet& set, Cursor c) {
    if (c.ip == *set[c.range].range_end) {
        c.range = (c.range + 1) % set.size();
        c.ip = *set[c.range].range_start;
    } else {
        c.ip = c.ip.next();
    }
    return c;
}

}  // namespace

Result<Allocation> Allocator::allocate_requested(const std::string& id, const std::string& ifname,
                                                 const IpAddr& requested) {
    const Range* range = BERTH_TRY(range_for(ranges_, requested));
    if (range->gateway && requested == *range->gateway)
        return Error(EINVAL) << "requested ip " << requested.str() << " is subnet's gateway";
    bool reserved = BERTH_TRY(store_.reserve(id, ifname, requested, range_id_));
    if (!reserved)
        return Error(EADDRINUSE) << "requested IP address " << requested.str()
                                 << " is not available in range set " << to_string(ranges_);
    return Allocation{IpNet(requested, range->subnet.prefix_len()), range->gateway};
}

Result<Allocation> Allocator::allocate(const std::string& id, const std::string& ifname,
                                       const std::optional<IpAddr>& requested) {
    if (ranges_.empty()) return Error(EINVAL) << "empty range set";
    if (requested) return allocate_requested(id, ifname, *requested);

    for (const IpAddr& held : BERTH_TRY(store_.get_by_id(id, ifname)))
        if (contains(ranges_, held))
            return Error(EEXIST) << held.str() << " has been allocated to " << id
                                 << ", duplicate allocation is not allowed";

    // Start right after the last reservation when it still lies in this set (the ranges may
    // have changed since), else at the first range's start.
    Cursor first{0, *ranges_[0].range_start};
    auto last = store_.last_reserved_ip(range_id_);
    if (last.ok() && last->has_value()) {
        for (size_t i = 0; i < ranges_.size(); i++)
            if (ranges_[i].contains(**last)) first = advance(ranges_, Cursor{i, **last});
    }
    Cursor c = first;
    do {
        const Range& r = ranges_[c.range];
        if (!(r.gateway && c.ip == *r.gateway)) {
            if (BERTH_TRY(store_.reserve(id, ifname, c.ip, range_id_)))
                return Allocation{IpNet(c.ip, r.subnet.prefix_len()), r.gateway};
        }
        c = advance(ranges_, c);
    } while (!(c == first));
    return Error(ENOSPC) << "no IP addresses available in range set: " << to_string(ranges_);
}

Result<std::vector<Allocation>> allocate_all(const std::vector<RangeSet>& range_sets, Store& store,
                                             const std::string& id, const std::string& ifname,
                                             const std::vector<IpAddr>& requested) {
    auto lock = BERTH_TRY(StoreLock::acquire(store));
    std::vector<Allocation> out;
    auto undo = make_scope_guard([&] {
        for (const Allocation& a : out) (void)store.release(a.address.addr());
    });
    std::vector<IpAddr> unmatched = requested;
    for (size_t i = 0; i < range_sets.size(); i++) {
        std::optional<IpAddr> want;
        auto it = std::find_if(unmatched.begin(), unmatched.end(),
                               [&](const IpAddr& ip) { return contains(range_sets[i], ip); });
        if (it != unmatched.end()) {
            want = *it;
            unmatched.erase(it);
        }
        Allocator allocator(range_sets[i], store, static_cast<int>(i));
        auto a = allocator.allocate(id, ifname, want);
        if (!a)
            return std::move(a).error().wrap("failed to allocate for range " + std::to_string(i));
        out.push_back(*a);
    }
    if (!unmatched.empty()) {
        Error e(EINVAL, "failed to allocate all requested IPs:");
        for (const IpAddr& ip : unmatched) e << " " << ip.str();
        return e;
    }
    undo.dismiss();
    return out;
}

Result<void> release_all(Store& store, const std::string& id, const std::string& ifname) {
    auto lock = BERTH_TRY(StoreLock::acquire(store));
    return store.release_by_id(id, ifname);
}

Result<std::vector<Reservation>> garbage_collect(Store& store,
                                                 const std::vector<Attachment>& valid) {
    auto lock = BERTH_TRY(StoreLock::acquire(store));
    std::vector<Reservation> released;
    for (const Reservation& r : BERTH_TRY(store.list())) {
        bool keep = std::any_of(valid.begin(), valid.end(), [&](const Attachment& a) {
            return a.container_id == r.id && a.ifname == r.ifname;
        });
        if (keep) continue;
        BERTH_TRY(store.release(r.ip));
        released.push_back(r);
    }
    return released;
}

}  // namespace berth::net::ipam
