// IpAddr / IpNet (net/ip/addr.h): parsing, printing, ordering, stepping, prefixes.
#include "net/ip/addr.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

IpAddr ip(const char* s) {
    return IpAddr::parse(s).value();
}

TEST(IpAddr, ParseAndPrintBothFamilies) {
    EXPECT_EQ(ip("10.1.2.3").str(), "10.1.2.3");
    EXPECT_TRUE(ip("10.1.2.3").is_v4());
    EXPECT_EQ(ip("FD00:0:0::1").str(), "fd00::1");
    EXPECT_EQ(ip("fd00::1").family(), AF_INET6);
    EXPECT_EQ(ip("fd00::1").size(), 16u);
    for (const char* bad :
         {"", "10.1.2", "10.1.2.256", "1.2.3.4/24", "fd00::1::2", "x", " 1.2.3.4"})
        EXPECT_FALSE(IpAddr::parse(bad)) << bad;
    EXPECT_TRUE(IpAddr().is_unspecified());
    EXPECT_EQ(IpAddr::v4(192, 168, 1, 9), ip("192.168.1.9"));
}

TEST(IpAddr, NextPrevCarryAndOrder) {
    EXPECT_EQ(ip("10.0.0.255").next(), ip("10.0.1.0"));
    EXPECT_EQ(ip("10.0.1.0").prev(), ip("10.0.0.255"));
    EXPECT_EQ(ip("255.255.255.255").next(), ip("0.0.0.0"));
    EXPECT_EQ(ip("fd00::ffff").next(), ip("fd00::1:0"));
    EXPECT_LT(ip("10.0.0.2"), ip("10.0.0.10"));
    EXPECT_LT(ip("255.0.0.0"), ip("::1"));  // IPv4 before IPv6
    EXPECT_GT(ip("fd00::2"), ip("fd00::1"));
}

TEST(IpNet, ParseMaskContain) {
    auto n = IpNet::parse("10.1.2.77/24").value();
    EXPECT_EQ(n.str(), "10.1.2.77/24");
    EXPECT_EQ(n.network(), ip("10.1.2.0"));
    EXPECT_EQ(n.last(), ip("10.1.2.255"));
    EXPECT_EQ(n.masked().str(), "10.1.2.0/24");
    EXPECT_TRUE(n.contains(ip("10.1.2.200")));
    EXPECT_FALSE(n.contains(ip("10.1.3.1")));
    EXPECT_FALSE(n.contains(ip("::1")));
    auto v6 = IpNet::parse("fd00:1::/120").value();
    EXPECT_EQ(v6.last(), ip("fd00:1::ff"));
    EXPECT_TRUE(IpNet::parse("10.0.0.0/8").value().overlaps(n));
    EXPECT_FALSE(IpNet::parse("10.2.0.0/16").value().overlaps(n));
    EXPECT_EQ(IpNet::parse("10.1.2.3", true).value().prefix_len(), 32);
    for (const char* bad :
         {"10.1.2.3", "10.1.2.3/33", "10.1.2.3/", "fd00::/129", "x/1", "1.2.3.4/-1"}) {
        auto r = IpNet::parse(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().errno_value(), EINVAL);
    }
}

}  // namespace
}  // namespace berth::net
