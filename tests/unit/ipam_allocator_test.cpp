// host-local allocation logic (net/ipam/range.h, allocator.h) over an in-memory store.
#include "net/ipam/allocator.h"

#include <gtest/gtest.h>

#include "unit/ipam_fake_store.h"

namespace berth::net::ipam {
namespace {

IpAddr ip(const char* s) {
    return IpAddr::parse(s).value();
}

Range range(const char* subnet, const char* start = nullptr, const char* end = nullptr,
            const char* gw = nullptr) {
    Range r;
    r.subnet = IpNet::parse(subnet).value();
    if (start) r.range_start = ip(start);
    if (end) r.range_end = ip(end);
    if (gw) r.gateway = ip(gw);
    return r;
}

RangeSet canonical(RangeSet set) {
    auto r = canonicalize(set);
    EXPECT_TRUE(r.ok()) << r.error().what();
    return set;
}

std::string alloc_str(Allocator& a, const std::string& id, const std::string& ifname = "eth0") {
    auto r = a.allocate(id, ifname);
    if (!r) return "error: " + r.error().what();
    return r->address.str();
}

TEST(IpamRange, DefaultsFollowTheReference) {
    Range v4 = range("10.1.2.0/24");
    ASSERT_TRUE(v4.canonicalize().ok());
    EXPECT_EQ(*v4.range_start, ip("10.1.2.1"));
    EXPECT_EQ(*v4.range_end, ip("10.1.2.254"));
    EXPECT_EQ(*v4.gateway, ip("10.1.2.1"));
    EXPECT_EQ(v4.str(), "10.1.2.1-10.1.2.254");

    Range v6 = range("fd00:1::/120");
    ASSERT_TRUE(v6.canonicalize().ok());
    EXPECT_EQ(*v6.range_start, ip("fd00:1::1"));
    EXPECT_EQ(*v6.range_end, ip("fd00:1::ff"));  // no broadcast in IPv6
    EXPECT_EQ(*v6.gateway, ip("fd00:1::1"));
}

TEST(IpamRange, InvalidRangesExplainThemselves) {
    auto err = [](Range r) {
        auto c = r.canonicalize();
        return c.ok() ? std::string("ok") : c.error().what();
    };
    EXPECT_EQ(err(range("10.1.2.0/31")), "Network 10.1.2.0/31 too small to allocate from");
    EXPECT_EQ(err(range("fd00::/127")), "Network fd00::/127 too small to allocate from");
    EXPECT_EQ(err(range("10.1.2.5/24")),
              "Network has host bits set. For a subnet mask of length 24 the network address is "
              "10.1.2.0");
    EXPECT_EQ(err(range("10.1.2.0/24", "10.1.3.1")),
              "RangeStart 10.1.3.1 not in network 10.1.2.0/24");
    EXPECT_EQ(err(range("10.1.2.0/24", nullptr, "10.1.3.1")),
              "RangeEnd 10.1.3.1 not in network 10.1.2.0/24");

    RangeSet overlap{range("10.1.0.0/16"), range("10.1.2.0/24")};
    auto o = canonicalize(overlap);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().what(), "subnets 10.1.0.0/16 and 10.1.2.0/24 overlap");
    RangeSet mixed{range("10.1.0.0/16"), range("fd00::/64")};
    EXPECT_EQ(canonicalize(mixed).error().what(), "mixed address families");
    RangeSet empty;
    EXPECT_FALSE(canonicalize(empty).ok());
    // Disjoint parts of one subnet do not overlap.
    RangeSet split{range("10.1.2.0/24", "10.1.2.10", "10.1.2.19"),
                   range("10.1.2.0/24", "10.1.2.20", "10.1.2.29")};
    EXPECT_TRUE(canonicalize(split).ok());
}

TEST(IpamAllocator, SkipsGatewayAndGoesRoundRobin) {
    FakeStore store;
    RangeSet set = canonical({range("10.1.2.0/24")});
    Allocator a(set, store, 0);
    auto first = a.allocate("c1", "eth0");
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->address.str(), "10.1.2.2/24");
    EXPECT_EQ(first->gateway, ip("10.1.2.1"));
    EXPECT_EQ(alloc_str(a, "c2"), "10.1.2.3/24");
    EXPECT_EQ(store.last["0"], ip("10.1.2.3"));
    // A released address is not reused at once: allocation continues after the last one.
    ASSERT_TRUE(store.release_by_id("c1", "eth0").ok());
    EXPECT_EQ(alloc_str(a, "c3"), "10.1.2.4/24");
}

TEST(IpamAllocator, WrapsAroundThenReportsExhaustion) {
    FakeStore store;
    RangeSet set = canonical({range("10.1.2.0/24", "10.1.2.2", "10.1.2.4")});
    Allocator a(set, store, 0);
    EXPECT_EQ(alloc_str(a, "c1"), "10.1.2.2/24");
    EXPECT_EQ(alloc_str(a, "c2"), "10.1.2.3/24");
    EXPECT_EQ(alloc_str(a, "c3"), "10.1.2.4/24");
    ASSERT_TRUE(store.release_by_id("c2", "eth0").ok());
    EXPECT_EQ(alloc_str(a, "c4"), "10.1.2.3/24");
    auto full = a.allocate("c5", "eth0");
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().errno_value(), ENOSPC);
    EXPECT_EQ(full.error().what(), "no IP addresses available in range set: 10.1.2.2-10.1.2.4");
}

TEST(IpamAllocator, ExplicitGatewayInsideTheRangeIsSkipped) {
    FakeStore store;
    RangeSet set = canonical({range("10.1.2.0/24", "10.1.2.4", "10.1.2.6", "10.1.2.5")});
    Allocator a(set, store, 0);
    EXPECT_EQ(alloc_str(a, "c1"), "10.1.2.4/24");
    EXPECT_EQ(alloc_str(a, "c2"), "10.1.2.6/24");
    EXPECT_EQ(a.allocate("c3", "eth0").error().errno_value(), ENOSPC);
}

TEST(IpamAllocator, MovesAcrossRangesOfASet) {
    FakeStore store;
    RangeSet set = canonical({range("10.1.2.0/29"), range("10.1.3.0/30")});
    Allocator a(set, store, 0);
    std::vector<std::string> got;
    for (int i = 0; i < 6; i++) got.push_back(alloc_str(a, "c" + std::to_string(i)));
    // .1 is each subnet's gateway; /29 hosts .2-.6, /30 hosts .2.
    EXPECT_EQ(got, (std::vector<std::string>{"10.1.2.2/29", "10.1.2.3/29", "10.1.2.4/29",
                                             "10.1.2.5/29", "10.1.2.6/29", "10.1.3.2/30"}));
    auto r = a.allocate("c9", "eth0");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().what(),
              "no IP addresses available in range set: 10.1.2.1-10.1.2.6,10.1.3.1-10.1.3.2");
    // After a release in the first range, the search wraps from the second range to it.
    ASSERT_TRUE(store.release(ip("10.1.2.3")).ok());
    EXPECT_EQ(alloc_str(a, "c10"), "10.1.2.3/29");
}

TEST(IpamAllocator, StaleLastReservedOutsideTheSetStartsAtTheBeginning) {
    FakeStore store;
    store.last["0"] = ip("192.168.9.9");
    RangeSet set = canonical({range("10.1.2.0/24")});
    Allocator a(set, store, 0);
    EXPECT_EQ(alloc_str(a, "c1"), "10.1.2.2/24");
    store.last["0"] = ip("10.1.2.254");  // the end: wraps to the start
    EXPECT_EQ(alloc_str(a, "c2"), "10.1.2.3/24");
}

TEST(IpamAllocator, RequestedAddress) {
    FakeStore store;
    RangeSet set = canonical({range("10.1.2.0/24")});
    Allocator a(set, store, 0);
    auto got = a.allocate("c1", "eth0", ip("10.1.2.77"));
    ASSERT_TRUE(got.ok()) << got.error().what();
    EXPECT_EQ(got->address.str(), "10.1.2.77/24");

    auto taken = a.allocate("c2", "eth0", ip("10.1.2.77"));
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ(taken.error().errno_value(), EADDRINUSE);
    EXPECT_EQ(taken.error().what(),
              "requested IP address 10.1.2.77 is not available in range set 10.1.2.1-10.1.2.254");
    auto gw = a.allocate("c2", "eth0", ip("10.1.2.1"));
    EXPECT_EQ(gw.error().what(), "requested ip 10.1.2.1 is subnet's gateway");
    auto outside = a.allocate("c2", "eth0", ip("10.9.9.9"));
    EXPECT_EQ(outside.error().what(), "10.9.9.9 not in range set 10.1.2.1-10.1.2.254");
    // Round-robin continues after the requested address.
    EXPECT_EQ(alloc_str(a, "c3"), "10.1.2.78/24");
}

TEST(IpamAllocator, SecondAllocationForTheSameAttachmentIsRefused) {
    FakeStore store;
    RangeSet set = canonical({range("10.1.2.0/24")});
    Allocator a(set, store, 0);
    EXPECT_EQ(alloc_str(a, "c1", "eth0"), "10.1.2.2/24");
    auto dup = a.allocate("c1", "eth0");
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().errno_value(), EEXIST);
    EXPECT_EQ(dup.error().what(),
              "10.1.2.2 has been allocated to c1, duplicate allocation is not allowed");
    EXPECT_EQ(alloc_str(a, "c1", "eth1"), "10.1.2.3/24");
}

TEST(IpamAllocator, Ipv6) {
    FakeStore store;
    RangeSet set = canonical({range("fd00:1::/64", "fd00:1::fffe", "fd00:1::1:1")});
    Allocator a(set, store, 0);
    EXPECT_EQ(alloc_str(a, "c1"), "fd00:1::fffe/64");
    EXPECT_EQ(alloc_str(a, "c2"), "fd00:1::ffff/64");
    EXPECT_EQ(alloc_str(a, "c3"), "fd00:1::1:0/64");
    auto r = a.allocate("c4", "eth0");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->gateway, ip("fd00:1::1"));
}

TEST(IpamAllocateAll, DualStackUnderOneLock) {
    FakeStore store;
    std::vector<RangeSet> sets{canonical({range("10.1.2.0/24")}),
                               canonical({range("fd00:1::/64")})};
    auto got = allocate_all(sets, store, "c1", "eth0");
    ASSERT_TRUE(got.ok()) << got.error().what();
    ASSERT_EQ(got->size(), 2u);
    EXPECT_EQ(got->at(0).address.str(), "10.1.2.2/24");
    EXPECT_EQ(got->at(1).address.str(), "fd00:1::2/64");
    EXPECT_EQ(store.last["0"], ip("10.1.2.2"));
    EXPECT_EQ(store.last["1"], ip("fd00:1::2"));
    EXPECT_EQ(store.locked, 0);

    auto req = allocate_all(sets, store, "c2", "eth0", {ip("fd00:1::99"), ip("10.1.2.99")});
    ASSERT_TRUE(req.ok()) << req.error().what();
    EXPECT_EQ(req->at(0).address.str(), "10.1.2.99/24");
    EXPECT_EQ(req->at(1).address.str(), "fd00:1::99/64");

    ASSERT_TRUE(release_all(store, "c1", "eth0").ok());
    EXPECT_EQ(store.reserved.size(), 2u);
}

TEST(IpamAllocateAll, FailureReleasesWhatThisCallReserved) {
    FakeStore store;
    std::vector<RangeSet> sets{canonical({range("10.1.2.0/24")}),
                               canonical({range("fd00:1::/64")})};
    store.fail_reserve_at = 1;  // the IPv6 reservation
    auto r = allocate_all(sets, store, "c1", "eth0");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().what(), "failed to allocate for range 1: injected failure");
    EXPECT_TRUE(store.reserved.empty());
    EXPECT_EQ(store.locked, 0);

    store.fail_reserve_at = -1;
    auto stray = allocate_all(sets, store, "c1", "eth0", {ip("192.168.0.5")});
    ASSERT_FALSE(stray.ok());
    EXPECT_EQ(stray.error().what(), "failed to allocate all requested IPs: 192.168.0.5");
    EXPECT_TRUE(store.reserved.empty());
}

TEST(IpamGc, ReleasesOnlyAttachmentsNotListed) {
    FakeStore store;
    RangeSet set = canonical({range("10.1.2.0/24")});
    Allocator a(set, store, 0);
    alloc_str(a, "keep", "eth0");
    alloc_str(a, "keep", "eth1");
    alloc_str(a, "gone", "eth0");
    auto released = garbage_collect(store, {{"keep", "eth0"}, {"keep", "eth1"}});
    ASSERT_TRUE(released.ok());
    ASSERT_EQ(released->size(), 1u);
    EXPECT_EQ(released->at(0).id, "gone");
    EXPECT_EQ(store.reserved.size(), 2u);
    EXPECT_EQ(garbage_collect(store, {})->size(), 2u);
    EXPECT_TRUE(store.reserved.empty());
}

}  // namespace
}  // namespace berth::net::ipam
