// Netlink links, addresses and routes against the real kernel, each test in network namespaces
// of its own (root only; skipped otherwise). Results are checked through our own dumps and, from
// outside, with `ip -j` run inside the namespace by nsenter. The host's interfaces are never
// touched: every socket here is opened in a test namespace.
#include <gtest/gtest.h>
#include <linux/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/netlink/address.h"
#include "net/netlink/link.h"
#include "net/netlink/link_delete_detached.h"
#include "net/netlink/netns.h"
#include "net/netlink/route.h"
#include "net/netlink/socket.h"
#include "test_netns.h"

namespace berth::net {
namespace {

using namespace netlink;  // NOLINT

using testing::TestNetns;

class NetlinkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
        auto node = TestNetns::create();
        ASSERT_TRUE(node.ok()) << node.error().what();
        node_.emplace(std::move(node).value());
        auto ctr = TestNetns::create();
        ASSERT_TRUE(ctr.ok()) << ctr.error().what();
        ctr_.emplace(std::move(ctr).value());
    }
    TestNetns& node() { return *node_; }
    TestNetns& ctr() { return *ctr_; }

    LinkInfo must_get(TestNetns& ns, const std::string& name) {
        auto l = get_link(ns.nl(), name);
        EXPECT_TRUE(l.ok()) << l.error().what();
        return l.ok() ? l.value() : LinkInfo{};
    }

  private:
    std::optional<TestNetns> node_;
    std::optional<TestNetns> ctr_;
};

TEST_F(NetlinkTest, FreshNamespaceHoldsOnlyLoopback) {
    auto links = list_links(node().nl());
    ASSERT_OK(links);
    ASSERT_EQ(links->size(), 1u);
    EXPECT_EQ(links->at(0).name, "lo");
    EXPECT_TRUE(links->at(0).up());
    EXPECT_TRUE(links->at(0).mac.empty());
}

TEST_F(NetlinkTest, InNetnsRunsOnAnotherThreadAndLeavesTheCallerAlone) {
    auto inode_of = [](const char* path) {
        struct stat st {};
        EXPECT_EQ(::stat(path, &st), 0);
        return st.st_ino;
    };
    struct stat target {};
    ASSERT_EQ(::fstat(node().fd().get(), &target), 0);
    const ino_t before = inode_of("/proc/thread-self/ns/net");
    const std::thread::id caller = std::this_thread::get_id();
    auto r = in_netns(node().fd(), [&]() -> Result<std::pair<ino_t, bool>> {
        return std::pair{inode_of("/proc/thread-self/ns/net"),
                         std::this_thread::get_id() != caller};
    });
    ASSERT_OK(r);
    EXPECT_EQ(r->first, target.st_ino);
    EXPECT_TRUE(r->second);
    EXPECT_EQ(inode_of("/proc/thread-self/ns/net"), before);

    auto bad = in_netns(BorrowedFd(-1), []() -> Result<int> { return 1; });
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().errno_value(), EBADF);
    EXPECT_NE(bad.error().what().find("setns"), std::string::npos) << bad.error().what();
}

TEST_F(NetlinkTest, BridgeCreateUpMtuDelete) {
    ASSERT_OK(create_bridge(node().nl(), {.name = "br-test"}));
    LinkInfo br = must_get(node(), "br-test");
    EXPECT_EQ(br.kind, "bridge");
    EXPECT_FALSE(br.up());
    EXPECT_EQ(br.mac.size(), 17u);

    ASSERT_OK(set_link_up(node().nl(), br.index, true));
    ASSERT_OK(set_link_mtu(node().nl(), br.index, 1400));
    auto by_index = get_link(node().nl(), br.index);
    ASSERT_OK(by_index);
    EXPECT_EQ(by_index->name, "br-test");
    EXPECT_TRUE(by_index->up());
    EXPECT_EQ(by_index->mtu, 1400u);

    auto j = node().run_json("ip -j -d link show br-test");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    EXPECT_EQ(j[0]["mtu"], 1400);
    EXPECT_EQ(j[0]["linkinfo"]["info_kind"], "bridge");
    auto flags = j[0]["flags"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(flags.begin(), flags.end(), "UP"), flags.end());

    ASSERT_OK(set_link_up(node().nl(), br.index, false));
    EXPECT_FALSE(must_get(node(), "br-test").up());

    ASSERT_OK(delete_link(node().nl(), br.index));
    auto gone = get_link(node().nl(), "br-test");
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().errno_value(), ENODEV);
    EXPECT_EQ(gone.error().what(), "get link `br-test`: RTM_GETLINK: No such device");
    EXPECT_EQ(node().run("ip -o link show br-test"), "");
}

TEST_F(NetlinkTest, KernelErrorsCarryErrnoAndExtendedAck) {
    ASSERT_OK(create_bridge(node().nl(), {.name = "br-test"}));
    auto again = create_bridge(node().nl(), {.name = "br-test"});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().errno_value(), EEXIST);
    EXPECT_EQ(again.error().what().rfind("create bridge `br-test`: RTM_NEWLINK", 0), 0u)
        << again.error().what();
    EXPECT_NE(again.error().what().find("File exists"), std::string::npos);

    int index = must_get(node(), "br-test").index;
    auto tiny = set_link_mtu(node().nl(), index, 10);
    ASSERT_FALSE(tiny.ok());
    EXPECT_EQ(tiny.error().errno_value(), EINVAL);
    // The kernel explains itself through the extended ACK.
    EXPECT_NE(tiny.error().what().find("set MTU 10 on link"), std::string::npos);
    EXPECT_NE(tiny.error().what().find("mtu less than device minimum"), std::string::npos)
        << tiny.error().what();

    // The socket stays usable after errors.
    EXPECT_EQ(must_get(node(), "br-test").index, index);

    auto bad_name = create_bridge(node().nl(), {.name = "a-name-far-too-long"});
    ASSERT_FALSE(bad_name.ok());
    EXPECT_EQ(bad_name.error().errno_value(), EINVAL);
}

TEST_F(NetlinkTest, VethPeerCreatedInAnotherNamespaceAndEnslaved) {
    ASSERT_OK(create_bridge(node().nl(), {.name = "br-test"}));
    int br = must_get(node(), "br-test").index;
    ASSERT_OK(create_veth(node().nl(), {.name = "veth-host",
                                        .peer_name = "eth0",
                                        .mtu = 1450,
                                        .peer_netns_fd = ctr().fd().get()}));
    LinkInfo host = must_get(node(), "veth-host");
    EXPECT_EQ(host.kind, "veth");
    EXPECT_EQ(host.mtu, 1450u);
    EXPECT_TRUE(host.link_netnsid.has_value());
    EXPECT_FALSE(get_link(node().nl(), "eth0").ok());

    LinkInfo peer = must_get(ctr(), "eth0");
    EXPECT_EQ(peer.kind, "veth");
    EXPECT_EQ(peer.mtu, 1450u);
    EXPECT_EQ(peer.parent, host.index);
    EXPECT_EQ(host.parent, peer.index);

    ASSERT_OK(set_link_master(node().nl(), host.index, br));
    ASSERT_OK(set_link_up(node().nl(), host.index, true));
    ASSERT_OK(set_link_up(node().nl(), br, true));
    ASSERT_OK(set_link_up(ctr().nl(), peer.index, true));
    EXPECT_EQ(must_get(node(), "veth-host").master, br);

    auto j = node().run_json("ip -j link show veth-host");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    EXPECT_EQ(j[0]["master"], "br-test");
    auto c = ctr().run_json("ip -j link show eth0");
    ASSERT_TRUE(c.is_array() && c.size() == 1) << c.dump();
    EXPECT_EQ(c[0]["mtu"], 1450);
    EXPECT_EQ(c[0]["operstate"], "UP");

    ASSERT_OK(set_link_master(node().nl(), host.index, 0));
    EXPECT_EQ(must_get(node(), "veth-host").master, 0);

    // Deleting one end removes the pair, in both namespaces.
    ASSERT_OK(delete_link(ctr().nl(), peer.index));
    EXPECT_EQ(get_link(node().nl(), "veth-host").error().errno_value(), ENODEV);
}

// The deletion returns once the kernel announces the pair gone; the holder that sent it exits
// after this process's sockets are no longer needed (here: the test process lives on, so it
// stays until then, and is found by its name).
TEST_F(NetlinkTest, DetachedDeleteReturnsWithThePairGone) {
    ASSERT_OK(create_bridge(node().nl(), {.name = "br-test"}));
    int br = must_get(node(), "br-test").index;
    ASSERT_OK(set_link_up(node().nl(), br, true));
    ASSERT_OK(create_veth(node().nl(), {.name = "veth-host",
                                        .peer_name = "eth0",
                                        .peer_netns_fd = ctr().fd().get(),
                                        .master = br,
                                        .up = true}));
    int host = must_get(node(), "veth-host").index;
    auto r = in_netns(node().fd(), [&] { return delete_link_detached(host); });
    ASSERT_OK(r);
    EXPECT_EQ(get_link(node().nl(), "veth-host").error().errno_value(), ENODEV);
    EXPECT_EQ(get_link(ctr().nl(), "eth0").error().errno_value(), ENODEV);
    EXPECT_EQ(node().run("ip -o link show veth-host"), "");

    // A second deletion of the same index is the kernel's ENODEV, reported by the holder.
    auto again = in_netns(node().fd(), [&] { return delete_link_detached(host); });
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().errno_value(), ENODEV);
}

TEST_F(NetlinkTest, MoveLinkToNamespaceWithRename) {
    ASSERT_OK(create_veth(node().nl(), {.name = "va", .peer_name = "vb"}));
    int vb = must_get(node(), "vb").index;
    ASSERT_OK(move_link_to_netns(node().nl(), vb, ctr().fd(), "eth1"));
    EXPECT_FALSE(get_link(node().nl(), "vb").ok());
    LinkInfo moved = must_get(ctr(), "eth1");
    EXPECT_EQ(moved.kind, "veth");
    auto c = ctr().run_json("ip -j link show eth1");
    ASSERT_TRUE(c.is_array() && c.size() == 1) << c.dump();
}

TEST_F(NetlinkTest, AddressesAndDefaultRoutesBothFamilies) {
    ASSERT_OK(
        create_veth(node().nl(),
                    {.name = "veth-host", .peer_name = "eth0", .peer_netns_fd = ctr().fd().get()}));
    int eth0 = must_get(ctr(), "eth0").index;
    int host = must_get(node(), "veth-host").index;
    ASSERT_OK(set_link_up(node().nl(), host, true));
    ASSERT_OK(set_link_up(ctr().nl(), eth0, true));

    IpNet v4 = IpNet::parse("10.22.0.5/24").value();
    IpNet v6 = IpNet::parse("fd00:22::5/64").value();
    ASSERT_OK(add_address(ctr().nl(), eth0, v4));
    ASSERT_OK(add_address(ctr().nl(), eth0, v6, {.no_dad = true}));
    ASSERT_OK(add_address(node().nl(), host, IpNet::parse("10.22.0.1/24").value()));

    auto addrs = list_addresses(ctr().nl(), AF_UNSPEC, eth0);
    ASSERT_OK(addrs);
    auto has = [&](const IpNet& a) {
        return std::any_of(addrs->begin(), addrs->end(),
                           [&](const AddressInfo& i) { return i.address == a && i.index == eth0; });
    };
    EXPECT_TRUE(has(v4));
    EXPECT_TRUE(has(v6));
    auto v4_only = list_addresses(ctr().nl(), AF_INET);
    ASSERT_OK(v4_only);
    for (const auto& a : *v4_only) EXPECT_TRUE(a.address.addr().is_v4());

    auto gw4 = IpAddr::parse("10.22.0.1").value();
    auto gw6 = IpAddr::parse("fd00:22::1").value();
    ASSERT_OK(add_route(ctr().nl(), default_route(gw4, eth0)));
    ASSERT_OK(add_route(ctr().nl(), default_route(gw6, eth0)));
    auto routes = list_routes(ctr().nl(), AF_INET);
    ASSERT_OK(routes);
    auto def = std::find_if(routes->begin(), routes->end(),
                            [](const Route& r) { return r.destination.prefix_len() == 0; });
    ASSERT_NE(def, routes->end());
    EXPECT_EQ(def->gateway, gw4);
    EXPECT_EQ(def->oif, eth0);

    auto j = ctr().run_json("ip -j -4 route show default");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    EXPECT_EQ(j[0]["gateway"], "10.22.0.1");
    EXPECT_EQ(j[0]["dev"], "eth0");
    auto j6 = ctr().run_json("ip -j -6 route show default");
    ASSERT_TRUE(j6.is_array() && j6.size() == 1) << j6.dump();
    EXPECT_EQ(j6[0]["gateway"], "fd00:22::1");
    auto ja = ctr().run_json("ip -j addr show dev eth0");
    ASSERT_TRUE(ja.is_array() && ja.size() == 1) << ja.dump();
    std::vector<std::string> seen;
    for (const auto& a : ja[0]["addr_info"])
        seen.push_back(a["local"].get<std::string>() + "/" +
                       std::to_string(a["prefixlen"].get<int>()));
    EXPECT_NE(std::find(seen.begin(), seen.end(), "10.22.0.5/24"), seen.end());
    EXPECT_NE(std::find(seen.begin(), seen.end(), "fd00:22::5/64"), seen.end());
    EXPECT_EQ(ja[0]["addr_info"][0]["broadcast"], "10.22.0.255");

    // The default route works: the container reaches its gateway.
    EXPECT_NE(ctr().run("busybox ping -c1 -W5 10.22.0.1").find("1 packets received"),
              std::string::npos);

    ASSERT_OK(delete_route(ctr().nl(), default_route(gw4, eth0)));
    EXPECT_EQ(ctr().run("ip -4 route show default"), "");
    auto again = delete_route(ctr().nl(), default_route(gw4, eth0));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().errno_value(), ESRCH);

    ASSERT_OK(delete_address(ctr().nl(), eth0, v4));
    addrs = list_addresses(ctr().nl(), AF_UNSPEC, eth0);
    ASSERT_OK(addrs);
    EXPECT_FALSE(has(v4));
    EXPECT_TRUE(has(v6));
    auto dup = add_address(ctr().nl(), eth0, v6);
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().errno_value(), EEXIST);
}

TEST_F(NetlinkTest, OnLinkGatewayOutsideEverySubnet) {
    ASSERT_OK(
        create_veth(node().nl(),
                    {.name = "veth-host", .peer_name = "eth0", .peer_netns_fd = ctr().fd().get()}));
    int eth0 = must_get(ctr(), "eth0").index;
    ASSERT_OK(set_link_up(ctr().nl(), eth0, true));
    ASSERT_OK(add_address(ctr().nl(), eth0, IpNet::parse("10.22.0.5/32").value()));
    auto gw = IpAddr::parse("169.254.1.1").value();

    auto unreachable = add_route(ctr().nl(), default_route(gw, eth0));
    ASSERT_FALSE(unreachable.ok());
    EXPECT_EQ(unreachable.error().errno_value(), ENETUNREACH) << unreachable.error().what();
    EXPECT_EQ(unreachable.error().what().rfind("add route default via 169.254.1.1 dev ", 0), 0u)
        << unreachable.error().what();

    Route r = default_route(gw, eth0);
    r.on_link = true;
    ASSERT_OK(add_route(ctr().nl(), r));
    auto j = ctr().run_json("ip -j -4 route show default");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    EXPECT_EQ(j[0]["gateway"], "169.254.1.1");
    auto flags = j[0]["flags"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(flags.begin(), flags.end(), "onlink"), flags.end());

    // A route to a subnet through the link, no gateway: link scope.
    Route subnet;
    subnet.destination = IpNet::parse("10.99.0.0/16").value();
    subnet.oif = eth0;
    ASSERT_OK(add_route(ctr().nl(), subnet));
    auto routes = list_routes(ctr().nl(), AF_INET);
    ASSERT_OK(routes);
    auto it = std::find_if(routes->begin(), routes->end(),
                           [&](const Route& x) { return x.destination == subnet.destination; });
    ASSERT_NE(it, routes->end());
    EXPECT_EQ(it->scope, RT_SCOPE_LINK);
    EXPECT_FALSE(it->gateway.has_value());
}

TEST_F(NetlinkTest, DumpsStayConsistentWhileLinksChange) {
    // Another socket into the same namespace adds and removes links while we dump; every dump
    // must succeed (interrupted ones are retried) and hold lo.
    std::atomic<bool> stop{false};
    Result<void> churn_result;
    std::thread churn([&] {
        auto nl = NetlinkSocket::open_in(node().fd());
        if (!nl) {
            churn_result = std::move(nl).error();
            return;
        }
        for (int i = 0; !stop && i < 2000; i++) {
            std::string name = "d" + std::to_string(i % 8);
            if (auto r = create_bridge(*nl, {.name = name}); !r) {
                churn_result = std::move(r).error();
                return;
            }
            auto l = get_link(*nl, name);
            if (l) (void)delete_link(*nl, l->index);
        }
    });
    for (int i = 0; i < 200; i++) {
        auto links = list_links(node().nl());
        ASSERT_OK(links);
        EXPECT_TRUE(std::any_of(links->begin(), links->end(),
                                [](const LinkInfo& l) { return l.name == "lo"; }));
        auto addrs = list_addresses(node().nl(), AF_UNSPEC);
        ASSERT_OK(addrs);
    }
    stop = true;
    churn.join();
    ASSERT_OK(churn_result);
}

}  // namespace
}  // namespace berth::net
