// Pure parts of the netlink additions the bridge plugin uses: MAC parsing and generation.
#include <gtest/gtest.h>

#include "net/netlink/link.h"
#include "net/netlink/sysctl.h"

namespace berth::net::netlink {
namespace {

TEST(BridgeNetlink, ParsesMacAddresses) {
    auto m = parse_mac_address("0a:1B:2c:3d:4e:5F");
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)[0], 0x0a);
    EXPECT_EQ((*m)[5], 0x5f);
    EXPECT_TRUE(parse_mac_address("0a-1b-2c-3d-4e-5f"));
    for (const char* bad : {"", "0a:1b:2c:3d:4e", "0a:1b:2c:3d:4e:5f:", "0a:1b:2c:3d:4e:5g",
                            "0a1b2c3d4e5f", "0a:1b:2c:3d:4e:5f0"})
        EXPECT_FALSE(parse_mac_address(bad)) << bad;
}

TEST(BridgeNetlink, RandomMacsAreLocalUnicast) {
    std::string a = random_mac_address(), b = random_mac_address();
    EXPECT_NE(a, b);
    auto m = parse_mac_address(a);
    ASSERT_TRUE(m) << a;
    EXPECT_EQ((*m)[0] & 0x01, 0);  // unicast
    EXPECT_EQ((*m)[0] & 0x02, 2);  // locally administered
}

TEST(BridgeNetlink, SysctlKeys) {
    EXPECT_EQ(*sysctl::ipv6_conf_key("eth0", "accept_dad"), "net/ipv6/conf/eth0/accept_dad");
    EXPECT_EQ(*sysctl::ipv4_conf_key("cni0.100", "forwarding"),
              "net/ipv4/conf/cni0.100/forwarding");
    EXPECT_FALSE(sysctl::ipv6_conf_key("..", "accept_dad"));
    EXPECT_FALSE(sysctl::ipv6_conf_key("a/b", "accept_dad"));
    EXPECT_FALSE(sysctl::read("net/../../etc/passwd"));
    EXPECT_FALSE(sysctl::write("net//ipv4", "1"));
    // Readable without privileges, in whatever namespace the test runs.
    auto v = sysctl::read("net.ipv4.ip_forward");
    ASSERT_TRUE(v) << v.error().what();
    EXPECT_TRUE(*v == "0" || *v == "1");
}

}  // namespace
}  // namespace berth::net::netlink
