// VXLAN and dummy links, neighbour and FDB entries against the real kernel, each test in network
// namespaces of its own (root only; skipped otherwise). Results are read back through our own
// dumps and, from outside, with `ip -j` / `bridge -j` run inside the namespace by nsenter.
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/netlink/address.h"
#include "net/netlink/dummy.h"
#include "net/netlink/fdb.h"
#include "net/netlink/link.h"
#include "net/netlink/mac.h"
#include "net/netlink/neighbour.h"
#include "net/netlink/netns.h"
#include "net/netlink/socket.h"
#include "net/netlink/vxlan.h"
#include "test_netns.h"

namespace berth::net {
namespace {

using namespace netlink;  // NOLINT

using testing::TestNetns;

IpAddr ip(const char* text) {
    return IpAddr::parse(text).value();
}
MacAddr mac(const char* text) {
    return MacAddr::parse(text).value();
}

class NetlinkExtTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
        auto a = TestNetns::create();
        ASSERT_TRUE(a.ok()) << a.error().what();
        a_.emplace(std::move(a).value());
    }
    TestNetns& ns() { return *a_; }
    NetlinkSocket& nl() { return a_->nl(); }

    int index_of(TestNetns& n, const std::string& name) {
        auto l = get_link(n.nl(), name);
        EXPECT_TRUE(l.ok()) << l.error().what();
        return l.ok() ? l->index : 0;
    }
    int index_of(const std::string& name) { return index_of(ns(), name); }

    // A veth pair inside the namespace, both ends up: an underlay or a neighbour's interface.
    void make_veth(const std::string& a, const std::string& b) {
        ASSERT_OK(create_veth(nl(), {.name = a, .peer_name = b}));
        ASSERT_OK(set_link_up(nl(), index_of(a), true));
        ASSERT_OK(set_link_up(nl(), index_of(b), true));
    }

  private:
    std::optional<TestNetns> a_;
};

TEST(MacAddrTest, ParseAndPrint) {
    auto m = MacAddr::parse("02:AB:cd:00:10:ff");
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->str(), "02:ab:cd:00:10:ff");
    EXPECT_FALSE(m->is_zero());
    EXPECT_TRUE(MacAddr::parse("00-00-00-00-00-00")->is_zero());
    EXPECT_FALSE(MacAddr::parse("02:ab:cd:00:10").has_value());
    EXPECT_FALSE(MacAddr::parse("02:ab:cd:00:10:fg").has_value());
    EXPECT_FALSE(MacAddr::parse("02:ab:cd:00:10:ff:").has_value());
    EXPECT_FALSE(MacAddr::parse("02.ab.cd.00.10.ff").has_value());
    uint8_t raw[6] = {1, 2, 3, 4, 5, 6};
    EXPECT_EQ(MacAddr::from_bytes(raw, 6)->str(), "01:02:03:04:05:06");
    EXPECT_FALSE(MacAddr::from_bytes(raw, 5).has_value());
}

TEST_F(NetlinkExtTest, VxlanWithVniPortLocalAndLearningOff) {
    make_veth("ul0", "ul1");
    int ul0 = index_of("ul0");
    ASSERT_OK(create_vxlan(nl(), {.name = "vx0",
                                  .vni = 42,
                                  .local = ip("10.30.0.1"),
                                  .dst_port = 4789,
                                  .link = ul0,
                                  .learning = false,
                                  .ttl = 10,
                                  .ageing = 120,
                                  .udp_csum = true,
                                  .mtu = 1400,
                                  .mac = mac("02:00:00:00:42:01")}));
    auto l = get_link(nl(), "vx0");
    ASSERT_OK(l);
    EXPECT_EQ(l->kind, "vxlan");
    EXPECT_EQ(l->mtu, 1400u);
    EXPECT_EQ(l->mac, "02:00:00:00:42:01");

    auto v = get_vxlan(nl(), "vx0");
    ASSERT_OK(v);
    EXPECT_EQ(v->index, l->index);
    EXPECT_EQ(v->vni, 42u);
    EXPECT_EQ(v->local, ip("10.30.0.1"));
    EXPECT_FALSE(v->remote.has_value());
    EXPECT_FALSE(v->group.has_value());
    EXPECT_EQ(v->dst_port, 4789);
    EXPECT_EQ(v->link, ul0);
    EXPECT_FALSE(v->learning);
    EXPECT_EQ(v->ttl, 10);
    EXPECT_EQ(v->ageing, 120u);
    EXPECT_TRUE(v->udp_csum);

    auto j = ns().run_json("ip -j -d link show vx0");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    EXPECT_EQ(j[0]["mtu"], 1400);
    auto d = j[0]["linkinfo"]["info_data"];
    EXPECT_EQ(j[0]["linkinfo"]["info_kind"], "vxlan");
    EXPECT_EQ(d["id"], 42);
    EXPECT_EQ(d["local"], "10.30.0.1");
    EXPECT_EQ(d["link"], "ul0");
    EXPECT_EQ(d["port"], 4789);
    EXPECT_EQ(d["learning"], false);
    EXPECT_EQ(d["ttl"], 10);
    EXPECT_EQ(d["ageing"], 120);
    EXPECT_EQ(d["udp_csum"], true);
}

TEST_F(NetlinkExtTest, VxlanIpv6RemoteAndChecksumOptions) {
    ASSERT_OK(create_vxlan(nl(), {.name = "vx6",
                                  .vni = 0xfffffe,
                                  .local = ip("fd00:30::1"),
                                  .remote = ip("fd00:30::2"),
                                  .dst_port = 8472,
                                  .udp6_zero_csum_tx = true,
                                  .udp6_zero_csum_rx = true}));
    auto v = get_vxlan(nl(), "vx6");
    ASSERT_OK(v);
    EXPECT_EQ(v->vni, 0xfffffeu);
    EXPECT_EQ(v->local, ip("fd00:30::1"));
    EXPECT_EQ(v->remote, ip("fd00:30::2"));
    EXPECT_EQ(v->dst_port, 8472);
    EXPECT_TRUE(v->learning);  // the default
    EXPECT_TRUE(v->udp6_zero_csum_tx);
    EXPECT_TRUE(v->udp6_zero_csum_rx);
    auto j = ns().run_json("ip -j -d link show vx6");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    auto d = j[0]["linkinfo"]["info_data"];
    EXPECT_EQ(d["remote6"], "fd00:30::2");
    EXPECT_EQ(d["local6"], "fd00:30::1");
    EXPECT_EQ(d["udp_zero_csum6_tx"], true);
    EXPECT_EQ(d["udp_zero_csum6_rx"], true);
}

TEST_F(NetlinkExtTest, VxlanSpecErrorsAndKernelErrors) {
    auto big = create_vxlan(nl(), {.name = "vx0", .vni = 1u << 24});
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().errno_value(), EINVAL);
    EXPECT_EQ(big.error().what(), "create vxlan `vx0`: VNI 16777216 exceeds 24 bits");

    auto both = create_vxlan(
        nl(), {.name = "vx0", .vni = 1, .remote = ip("10.0.0.2"), .group = ip("239.1.1.1")});
    ASSERT_FALSE(both.ok());
    EXPECT_EQ(both.error().errno_value(), EINVAL);
    auto mcast_remote = create_vxlan(nl(), {.name = "vx0", .vni = 1, .remote = ip("239.1.1.1")});
    ASSERT_FALSE(mcast_remote.ok());
    EXPECT_NE(mcast_remote.error().what().find("is a multicast address"), std::string::npos);
    auto mixed = create_vxlan(
        nl(), {.name = "vx0", .vni = 1, .local = ip("10.0.0.1"), .remote = ip("fd00::2")});
    ASSERT_FALSE(mixed.ok());
    EXPECT_NE(mixed.error().what().find("different families"), std::string::npos);
    // None of these reached the kernel.
    EXPECT_EQ(get_link(nl(), "vx0").error().errno_value(), ENODEV);

    ASSERT_OK(create_vxlan(nl(), {.name = "vx0", .vni = 7}));
    auto again = create_vxlan(nl(), {.name = "vx0", .vni = 8});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().errno_value(), EEXIST);
    EXPECT_EQ(again.error().what().rfind("create vxlan `vx0`: RTM_NEWLINK: File exists", 0), 0u)
        << again.error().what();
    // Same VNI and port as an existing device: the kernel refuses and says why.
    auto clash = create_vxlan(nl(), {.name = "vx1", .vni = 7});
    ASSERT_FALSE(clash.ok());
    EXPECT_EQ(clash.error().errno_value(), EEXIST);
    EXPECT_EQ(clash.error().what().rfind("create vxlan `vx1`: RTM_NEWLINK", 0), 0u)
        << clash.error().what();

    make_veth("va", "vb");
    auto not_vxlan = get_vxlan(nl(), "va");
    ASSERT_FALSE(not_vxlan.ok());
    EXPECT_EQ(not_vxlan.error().errno_value(), EMEDIUMTYPE);
    EXPECT_EQ(not_vxlan.error().what(), "get vxlan `va`: the link is of kind `veth`");
    auto missing = get_vxlan(nl(), "nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().errno_value(), ENODEV);
    EXPECT_EQ(missing.error().what(), "get vxlan `nope`: RTM_GETLINK: No such device");
}

TEST_F(NetlinkExtTest, DummyLink) {
    auto r = create_dummy(nl(), {.name = "dm0", .mtu = 9000, .mac = mac("02:00:00:00:d0:01")});
    if (!r.ok() && r.error().errno_value() == EOPNOTSUPP) {
        // The request was well formed; the kernel is built without CONFIG_DUMMY.
        EXPECT_EQ(r.error().what().rfind("create dummy `dm0`: RTM_NEWLINK: ", 0), 0u)
            << r.error().what();
        GTEST_SKIP() << "kernel without dummy links: " << r.error().what();
    }
    ASSERT_OK(r);
    auto l = get_link(nl(), "dm0");
    ASSERT_OK(l);
    EXPECT_EQ(l->kind, "dummy");
    EXPECT_EQ(l->mtu, 9000u);
    EXPECT_EQ(l->mac, "02:00:00:00:d0:01");
    auto j = ns().run_json("ip -j -d link show dm0");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    EXPECT_EQ(j[0]["linkinfo"]["info_kind"], "dummy");
    EXPECT_EQ(j[0]["address"], "02:00:00:00:d0:01");
}

TEST_F(NetlinkExtTest, GenericCreateLinkWithInfoDataMasterAndUp) {
    // A bridge with one of its own attributes, then a vxlan enslaved to it and up at creation.
    ASSERT_OK(create_link(nl(), {.name = "br0",
                                 .kind = "bridge",
                                 .mtu = 1450,
                                 .up = true,
                                 .put_info_data = [](Request& req) {
                                     req.put_u32(IFLA_BR_AGEING_TIME, 12300);  // centiseconds
                                 }}));
    int br0 = index_of("br0");
    // Checked before a port joins: enslaving a 1500-byte vxlan lowers the bridge to 1500.
    auto j = ns().run_json("ip -j -d link show br0");
    ASSERT_TRUE(j.is_array() && j.size() == 1) << j.dump();
    EXPECT_EQ(j[0]["mtu"], 1450);
    EXPECT_EQ(j[0]["linkinfo"]["info_data"]["ageing_time"], 12300);
    auto flags = j[0]["flags"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(flags.begin(), flags.end(), "UP"), flags.end());
    ASSERT_OK(
        create_link(nl(), {.name = "vx0",
                           .kind = "vxlan",
                           .master = br0,
                           .up = true,
                           .put_info_data = [](Request& req) { req.put_u32(IFLA_VXLAN_ID, 5); }}));
    auto vx = get_link(nl(), "vx0");
    ASSERT_OK(vx);
    EXPECT_EQ(vx->master, br0);
    EXPECT_TRUE(vx->up());
    auto ports = ns().run_json("ip -j link show master br0");
    ASSERT_TRUE(ports.is_array() && ports.size() == 1) << ports.dump();
    EXPECT_EQ(ports[0]["ifname"], "vx0");

    auto nokind = create_link(nl(), {.name = "x0"});
    ASSERT_FALSE(nokind.ok());
    EXPECT_EQ(nokind.error().errno_value(), EINVAL);
    auto badname = create_link(nl(), {.name = "a/b", .kind = "bridge"});
    ASSERT_FALSE(badname.ok());
    EXPECT_EQ(badname.error().what(), "invalid interface name `a/b`");
    auto unknown = create_link(nl(), {.name = "x0", .kind = "no-such-kind"});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().errno_value(), EOPNOTSUPP) << unknown.error().what();
    EXPECT_EQ(unknown.error().what().rfind("create no-such-kind `x0`: RTM_NEWLINK", 0), 0u);
}

TEST_F(NetlinkExtTest, NeighboursAddReplaceListDeleteBothFamilies) {
    make_veth("va", "vb");
    int va = index_of("va");
    const Neighbour v4{.index = va, .ip = ip("10.40.0.2"), .mac = mac("02:00:00:00:40:02")};
    const Neighbour v6{.index = va,
                       .ip = ip("fd00:40::2"),
                       .mac = mac("02:00:00:00:40:06"),
                       .state = NUD_REACHABLE,
                       .flags = NTF_ROUTER};
    ASSERT_OK(add_neighbour(nl(), v4));
    ASSERT_OK(add_neighbour(nl(), v6));

    auto dup = add_neighbour(nl(), v4);
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().errno_value(), EEXIST);
    EXPECT_EQ(dup.error().what().rfind("add neighbour 10.40.0.2 lladdr 02:00:00:00:40:02 dev " +
                                           std::to_string(va) + ": RTM_NEWNEIGH: File exists",
                                       0),
              0u)
        << dup.error().what();

    auto find = [&](const std::vector<Neighbour>& list, const IpAddr& a) {
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const Neighbour& n) { return n.ip == a && n.index == va; });
        return it == list.end() ? std::optional<Neighbour>() : *it;
    };
    auto all = list_neighbours(nl(), AF_UNSPEC, va);
    ASSERT_OK(all);
    auto got4 = find(*all, v4.ip);
    ASSERT_TRUE(got4.has_value());
    EXPECT_EQ(got4->mac, v4.mac);
    EXPECT_EQ(got4->state, NUD_PERMANENT);
    auto got6 = find(*all, v6.ip);
    ASSERT_TRUE(got6.has_value());
    EXPECT_EQ(got6->mac, v6.mac);
    EXPECT_TRUE(got6->flags & NTF_ROUTER);
    auto only6 = list_neighbours(nl(), AF_INET6);
    ASSERT_OK(only6);
    for (const auto& n : *only6) EXPECT_FALSE(n.ip.is_v4()) << n.str();
    EXPECT_TRUE(find(*only6, v6.ip).has_value());
    EXPECT_FALSE(find(*only6, v4.ip).has_value());

    // Replace changes the MAC and state in place.
    Neighbour moved = v4;
    moved.mac = mac("02:00:00:00:40:99");
    moved.state = NUD_NOARP;
    ASSERT_OK(replace_neighbour(nl(), moved));
    // ... and creates entries that do not exist yet.
    ASSERT_OK(replace_neighbour(nl(), {.index = va, .ip = ip("10.40.0.3"), .mac = v4.mac}));
    all = list_neighbours(nl(), AF_INET, va);
    ASSERT_OK(all);
    got4 = find(*all, v4.ip);
    ASSERT_TRUE(got4.has_value());
    EXPECT_EQ(got4->mac, moved.mac);
    EXPECT_EQ(got4->state, NUD_NOARP);
    EXPECT_TRUE(find(*all, ip("10.40.0.3")).has_value());

    // From outside.
    auto j = ns().run_json("ip -j neigh show nud all dev va");
    ASSERT_TRUE(j.is_array()) << j.dump();
    std::map<std::string, nlohmann::json> by_dst;
    for (const auto& e : j) by_dst[e["dst"].get<std::string>()] = e;
    ASSERT_TRUE(by_dst.count("10.40.0.2")) << j.dump();
    EXPECT_EQ(by_dst["10.40.0.2"]["lladdr"], "02:00:00:00:40:99");
    EXPECT_EQ(by_dst["10.40.0.2"]["state"][0], "NOARP");
    ASSERT_TRUE(by_dst.count("fd00:40::2")) << j.dump();
    EXPECT_EQ(by_dst["fd00:40::2"]["lladdr"], "02:00:00:00:40:06");
    EXPECT_EQ(by_dst["10.40.0.3"]["state"][0], "PERMANENT");

    ASSERT_OK(delete_neighbour(nl(), va, v4.ip));
    ASSERT_OK(delete_neighbour(nl(), va, v6.ip));
    all = list_neighbours(nl(), AF_UNSPEC, va);
    ASSERT_OK(all);
    EXPECT_FALSE(find(*all, v4.ip).has_value());
    EXPECT_FALSE(find(*all, v6.ip).has_value());
    EXPECT_EQ(ns().run("ip neigh show to 10.40.0.2 dev va"), "");
    auto gone = delete_neighbour(nl(), va, v6.ip);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().errno_value(), ENOENT);
    EXPECT_EQ(gone.error().what().rfind("delete neighbour fd00:40::2 dev " + std::to_string(va), 0),
              0u)
        << gone.error().what();
}

TEST_F(NetlinkExtTest, NeighbourErrorsNameTheInterface) {
    auto missing =
        add_neighbour(nl(), {.index = 9999, .ip = ip("10.0.0.1"), .mac = mac("02:00:00:00:00:01")});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().errno_value(), ENODEV);
    EXPECT_EQ(missing.error().what().rfind(
                  "add neighbour 10.0.0.1 lladdr 02:00:00:00:00:01 dev 9999: RTM_NEWNEIGH: ", 0),
              0u)
        << missing.error().what();
    auto bad_family = list_neighbours(nl(), AF_BRIDGE);
    ASSERT_FALSE(bad_family.ok());
    EXPECT_EQ(bad_family.error().errno_value(), EAFNOSUPPORT);
}

TEST_F(NetlinkExtTest, VxlanFdbRemotesForTheOverlay) {
    make_veth("ul0", "ul1");
    ASSERT_OK(create_vxlan(nl(), {.name = "vx0",
                                  .vni = 42,
                                  .local = ip("10.30.0.1"),
                                  .link = index_of("ul0"),
                                  .learning = false}));
    int vx0 = index_of("vx0");
    const MacAddr zero{};
    // Flood to two remote VTEPs, and one MAC pinned to a third with its own port and VNI.
    ASSERT_OK(append_fdb(nl(), {.index = vx0, .mac = zero, .dst = ip("10.30.0.2")}));
    ASSERT_OK(append_fdb(nl(), {.index = vx0, .mac = zero, .dst = ip("10.30.0.3")}));
    const FdbEntry pinned{.index = vx0,
                          .mac = mac("02:00:00:00:42:09"),
                          .dst = ip("10.30.0.9"),
                          .port = 4790,
                          .vni = 43};
    ASSERT_OK(add_fdb(nl(), pinned));
    auto dup = add_fdb(nl(), pinned);
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().errno_value(), EEXIST);
    EXPECT_EQ(
        dup.error().what().rfind("add fdb entry 02:00:00:00:42:09 dev " + std::to_string(vx0) +
                                     " dst 10.30.0.9 port 4790 vni 43 self permanent: "
                                     "RTM_NEWNEIGH: File exists",
                                 0),
        0u)
        << dup.error().what();

    auto entries = list_fdb(nl(), {.index = vx0});
    ASSERT_OK(entries);
    std::vector<std::string> zero_dsts;
    std::optional<FdbEntry> got;
    for (const auto& e : *entries) {
        EXPECT_EQ(e.index, vx0);
        if (e.mac == zero && e.dst) zero_dsts.push_back(e.dst->str());
        if (e.mac == pinned.mac) got = e;
    }
    std::sort(zero_dsts.begin(), zero_dsts.end());
    EXPECT_EQ(zero_dsts, (std::vector<std::string>{"10.30.0.2", "10.30.0.3"}));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->dst, ip("10.30.0.9"));
    EXPECT_EQ(got->port, 4790);
    EXPECT_EQ(got->vni, 43u);
    EXPECT_TRUE(got->flags & NTF_SELF);
    EXPECT_EQ(got->state, NUD_PERMANENT);

    auto j = ns().run_json("bridge -j fdb show dev vx0");
    ASSERT_TRUE(j.is_array()) << j.dump();
    std::vector<std::string> outside;
    for (const auto& e : j)
        if (e.value("mac", "") == "00:00:00:00:00:00") outside.push_back(e["dst"]);
    std::sort(outside.begin(), outside.end());
    EXPECT_EQ(outside, zero_dsts);

    // Replace moves the pinned MAC to another remote; deleting one flood remote keeps the other.
    FdbEntry moved = pinned;
    moved.dst = ip("10.30.0.10");
    ASSERT_OK(replace_fdb(nl(), moved));
    ASSERT_OK(delete_fdb(nl(), {.index = vx0, .mac = zero, .dst = ip("10.30.0.2")}));
    entries = list_fdb(nl(), {.index = vx0});
    ASSERT_OK(entries);
    zero_dsts.clear();
    for (const auto& e : *entries) {
        if (e.mac == zero && e.dst) zero_dsts.push_back(e.dst->str());
        if (e.mac == pinned.mac) {
            EXPECT_EQ(e.dst, ip("10.30.0.10"));
        }
    }
    EXPECT_EQ(zero_dsts, (std::vector<std::string>{"10.30.0.3"}));
    j = ns().run_json("bridge -j fdb show dev vx0");
    ASSERT_TRUE(j.is_array()) << j.dump();
    for (const auto& e : j) EXPECT_NE(e.value("dst", ""), "10.30.0.2") << e.dump();

    // (A remote that is gone from a MAC that remains is not an error to the kernel.)
    auto missing = delete_fdb(nl(), {.index = vx0, .mac = mac("02:00:00:00:42:77")});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().errno_value(), ENOENT) << missing.error().what();
    auto bad_state = add_fdb(nl(), {.index = vx0,
                                    .mac = mac("02:00:00:00:42:0a"),
                                    .dst = ip("10.30.0.9"),
                                    .state = kFdbStatic});
    ASSERT_FALSE(bad_state.ok());
    EXPECT_EQ(bad_state.error().errno_value(), EINVAL);
    auto no_dev = add_fdb(nl(), {.index = 9999, .mac = zero, .dst = ip("10.30.0.9")});
    ASSERT_FALSE(no_dev.ok());
    EXPECT_EQ(no_dev.error().errno_value(), ENODEV);
    EXPECT_EQ(no_dev.error().what().rfind("add fdb entry 00:00:00:00:00:00 dev 9999 dst", 0), 0u)
        << no_dev.error().what();
}

TEST_F(NetlinkExtTest, BridgePortFdbStaticAndVlan) {
    ASSERT_OK(create_bridge(nl(), {.name = "br0"}));
    int br0 = index_of("br0");
    make_veth("va", "vb");
    int va = index_of("va");
    ASSERT_OK(set_link_master(nl(), va, br0));

    const FdbEntry entry{
        .index = va, .mac = mac("02:00:00:00:b0:01"), .state = kFdbStatic, .flags = NTF_MASTER};
    ASSERT_OK(add_fdb(nl(), entry));
    auto entries = list_fdb(nl(), {.master = br0});
    ASSERT_OK(entries);
    auto it = std::find_if(entries->begin(), entries->end(),
                           [&](const FdbEntry& e) { return e.mac == entry.mac; });
    ASSERT_NE(it, entries->end());
    EXPECT_EQ(it->index, va);
    EXPECT_EQ(it->master, br0);
    EXPECT_EQ(it->state & NUD_NOARP, NUD_NOARP);
    for (const auto& e : *entries) EXPECT_EQ(e.master, br0);

    auto j = ns().run_json("bridge -j fdb show br br0");
    ASSERT_TRUE(j.is_array()) << j.dump();
    auto out = std::find_if(j.begin(), j.end(), [](const nlohmann::json& e) {
        return e.value("mac", "") == "02:00:00:00:b0:01";
    });
    ASSERT_NE(out, j.end()) << j.dump();
    EXPECT_EQ((*out)["ifname"], "va");
    EXPECT_EQ((*out)["state"], "static");
    EXPECT_EQ((*out)["master"], "br0");

    ASSERT_OK(delete_fdb(nl(), entry));
    entries = list_fdb(nl(), {.index = va});
    ASSERT_OK(entries);
    EXPECT_TRUE(std::none_of(entries->begin(), entries->end(),
                             [&](const FdbEntry& e) { return e.mac == entry.mac; }));

    // VLAN 1 is every port's default PVID when the kernel has VLAN filtering built in.
    FdbEntry tagged = entry;
    tagged.vlan = 1;
    auto r = add_fdb(nl(), tagged);
    if (!r.ok() && r.error().errno_value() == EINVAL) {
        EXPECT_EQ(
            r.error().what().rfind("add fdb entry 02:00:00:00:b0:01 dev " + std::to_string(va) +
                                       " vlan 1 master static: RTM_NEWNEIGH: ",
                                   0),
            0u)
            << r.error().what();
        GTEST_SKIP() << "kernel without bridge VLAN filtering: " << r.error().what();
    }
    ASSERT_OK(r);
    entries = list_fdb(nl(), {.index = va});
    ASSERT_OK(entries);
    it = std::find_if(entries->begin(), entries->end(),
                      [&](const FdbEntry& e) { return e.mac == entry.mac; });
    ASSERT_NE(it, entries->end());
    EXPECT_EQ(it->vlan, 1);
    j = ns().run_json("bridge -j fdb show dev va");
    out = std::find_if(j.begin(), j.end(), [](const nlohmann::json& e) {
        return e.value("mac", "") == "02:00:00:00:b0:01";
    });
    ASSERT_NE(out, j.end()) << j.dump();
    EXPECT_EQ((*out)["vlan"], 1);
    ASSERT_OK(delete_fdb(nl(), tagged));
}

// Two "hosts" joined by a veth underlay, each with a VXLAN device, learning off, and static
// entries the way a flannel-like overlay programs them: the peer's overlay IP to its VTEP MAC
// (neighbour) and that MAC to the peer's underlay IP (FDB). Traffic then crosses the overlay.
TEST_F(NetlinkExtTest, VxlanOverlayBetweenTwoNamespacesPings) {
    auto other = TestNetns::create();
    ASSERT_OK(other);
    TestNetns& a = ns();
    TestNetns& b = *other;
    ASSERT_OK(
        create_veth(a.nl(), {.name = "ul0", .peer_name = "ul0", .peer_netns_fd = b.fd().get()}));
    struct Host {
        TestNetns& ns;
        IpNet underlay;
        IpNet overlay;
        MacAddr vtep_mac;
    };
    Host hosts[2] = {
        {a, IpNet::parse("10.50.0.1/24").value(), IpNet::parse("10.60.0.1/24").value(),
         mac("02:00:00:00:60:01")},
        {b, IpNet::parse("10.50.0.2/24").value(), IpNet::parse("10.60.0.2/24").value(),
         mac("02:00:00:00:60:02")},
    };
    for (Host& h : hosts) {
        int ul = index_of(h.ns, "ul0");
        ASSERT_OK(set_link_up(h.ns.nl(), ul, true));
        ASSERT_OK(add_address(h.ns.nl(), ul, h.underlay));
        ASSERT_OK(create_vxlan(h.ns.nl(), {.name = "vx0",
                                           .vni = 1,
                                           .local = h.underlay.addr(),
                                           .link = ul,
                                           .learning = false,
                                           .mac = h.vtep_mac}));
        int vx = index_of(h.ns, "vx0");
        ASSERT_OK(add_address(h.ns.nl(), vx, h.overlay));
        ASSERT_OK(set_link_up(h.ns.nl(), vx, true));
    }
    for (int i = 0; i < 2; i++) {
        Host& self = hosts[i];
        Host& peer = hosts[1 - i];
        int vx = index_of(self.ns, "vx0");
        ASSERT_OK(replace_neighbour(
            self.ns.nl(), {.index = vx, .ip = peer.overlay.addr(), .mac = peer.vtep_mac}));
        ASSERT_OK(replace_fdb(self.ns.nl(),
                              {.index = vx, .mac = peer.vtep_mac, .dst = peer.underlay.addr()}));
    }
    EXPECT_NE(a.run("busybox ping -c1 -W5 10.60.0.2").find("1 packets received"),
              std::string::npos);
    EXPECT_NE(b.run("busybox ping -c1 -W5 10.60.0.1").find("1 packets received"),
              std::string::npos);
    // The packets really went through the tunnel: the underlay carried UDP to port 4789.
    auto stats = a.run_json("ip -j -s link show vx0");
    ASSERT_TRUE(stats.is_array() && stats.size() == 1) << stats.dump();
    EXPECT_GE(stats[0]["stats64"]["tx"]["packets"].get<int>(), 2);
    EXPECT_GE(stats[0]["stats64"]["rx"]["packets"].get<int>(), 2);
}

}  // namespace
}  // namespace berth::net
