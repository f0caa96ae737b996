// berth-portmap's configuration parsing and the nftables rules it turns into. No root.
#include <gtest/gtest.h>

#include "net/portmap/config.h"
#include "net/portmap/rules.h"

namespace berth::net::portmap {
namespace {

Json base_config() {
    return Json::parse(R"({
        "cniVersion": "1.0.0", "name": "net1", "type": "portmap",
        "runtimeConfig": {"portMappings": [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
            {"hostPort": 5353, "containerPort": 53, "protocol": "UDP", "hostIP": "192.168.1.2"}]},
        "prevResult": {
            "interfaces": [{"name": "br0"}, {"name": "veth1"},
                           {"name": "eth0", "sandbox": "/run/netns/x"}],
            "ips": [{"address": "10.1.0.9/16", "interface": 1},
                    {"address": "10.88.0.5/16", "interface": 2},
                    {"address": "fd00::5/64", "interface": 2}]}})");
}

TEST(PortmapConfig, ParsesMappingsAndContainerAddresses) {
    auto c = parse_config(base_config());
    ASSERT_TRUE(c) << c.error().what();
    EXPECT_EQ(c->network, "net1");
    EXPECT_TRUE(c->snat);
    ASSERT_EQ(c->mappings.size(), 2u);
    EXPECT_EQ(c->mappings[0].host_port, 8080);
    EXPECT_EQ(c->mappings[0].protocol, Protocol::kTcp);
    EXPECT_FALSE(c->mappings[0].host_ip);
    EXPECT_EQ(c->mappings[1].protocol, Protocol::kUdp);
    EXPECT_EQ(c->mappings[1].host_ip->str(), "192.168.1.2");
    // The sandbox interface's address wins over the earlier host-side one.
    EXPECT_EQ(c->container_v4->str(), "10.88.0.5/16");
    EXPECT_EQ(c->container_v6->str(), "fd00::5/64");
    EXPECT_EQ(c->host_interfaces, (std::vector<std::string>{"br0", "veth1"}));
}

TEST(PortmapConfig, RejectsBadMappings) {
    for (const char* bad :
         {R"({"hostPort": 0, "containerPort": 80})", R"({"hostPort": 70000, "containerPort": 80})",
          R"({"hostPort": 80, "containerPort": "80"})",
          R"({"hostPort": 80, "containerPort": 80, "protocol": "icmp"})",
          R"({"hostPort": 80, "containerPort": 80, "hostIP": "1.2.3"})",
          R"({"hostPort": 80, "containerPort": 80, "hostIP": "1.2.3.4\"; x"})"}) {
        Json c = base_config();
        c["runtimeConfig"]["portMappings"] = Json::array({Json::parse(bad)});
        auto r = parse_config(c);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().errno_value(), EINVAL);
        }
    }
}

TEST(PortmapConfig, ReferenceOptions) {
    Json c = base_config();
    c["markMasqBit"] = 13;
    EXPECT_TRUE(parse_config(c));
    c["markMasqBit"] = 32;
    EXPECT_FALSE(parse_config(c));
    c["markMasqBit"] = 13;
    c["externalSetMarkChain"] = "KUBE-MARK-MASQ";
    EXPECT_FALSE(parse_config(c));
    c.erase("markMasqBit");
    EXPECT_TRUE(parse_config(c));
    c["conditionsV4"] = Json::array({"-s", "1.2.3.4"});
    auto r = parse_config(c);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errno_value(), ENOTSUP);
    c["conditionsV4"] = Json::array();
    EXPECT_TRUE(parse_config(c));
    c["snat"] = "yes";
    EXPECT_FALSE(parse_config(c));
}

TEST(PortmapConfig, ValidAttachments) {
    Json c = base_config();
    c["cni.dev/valid-attachments"] = Json::parse(
        R"([{"containerID": "a", "ifname": "eth0"}, {"containerID": "b", "ifname": "net1"}])");
    auto r = parse_config(c);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->valid_attachments.size(), 2u);
    EXPECT_EQ(r->valid_attachments[1].container_id, "b");
    c["cni.dev/valid-attachments"] = Json::parse(R"([{"containerID": "a"}])");
    EXPECT_FALSE(parse_config(c));
}

std::vector<std::string> texts(const std::vector<nft::Element>& elements) {
    std::vector<std::string> out;
    for (const auto& e : elements)
        out.push_back(e.set + ": " + e.key + (e.value.empty() ? "" : " : " + e.value) +
                      (e.tagged ? "" : " (shared)"));
    return out;
}

TEST(PortmapElements, MapEntriesOwnershipAndSubnetsPerFamily) {
    auto c = parse_config(base_config());
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->mappings_given);
    auto elements = portmap_elements(*c);
    ASSERT_TRUE(elements) << elements.error().what();
    EXPECT_EQ(texts(*elements), (std::vector<std::string>{
                                    "hp4_any: tcp . 8080 : 10.88.0.5 . 80",
                                    "hp4_ip: 192.168.1.2 . udp . 5353 : 10.88.0.5 . 53",
                                    "hp6_any: tcp . 8080 : fd00::5 . 80",
                                    "own4: 0.0.0.0 . tcp . 8080 . 10.88.0.5 . 80",
                                    "own4: 192.168.1.2 . udp . 5353 . 10.88.0.5 . 53",
                                    "own6: :: . tcp . 8080 . fd00::5 . 80",
                                    "subnets4: 10.88.0.0/16 (shared)",
                                    "subnets6: fd00::/64 (shared)",
                                }));
}

TEST(PortmapElements, NoSnatNoSubnets) {
    Json j = base_config();
    j["snat"] = false;
    j["runtimeConfig"]["portMappings"] =
        Json::parse(R"([{"hostPort": 80, "containerPort": 80, "protocol": "sctp",
                         "hostIP": "0.0.0.0"}])");
    auto c = parse_config(j);
    ASSERT_TRUE(c);
    auto elements = portmap_elements(*c);
    ASSERT_TRUE(elements);
    EXPECT_EQ(texts(*elements),
              (std::vector<std::string>{"hp4_any: sctp . 80 : 10.88.0.5 . 80",
                                        "own4: 0.0.0.0 . sctp . 80 . 10.88.0.5 . 80"}));
}

TEST(PortmapElements, MappingsNeedAnAddress) {
    Json j = base_config();
    j["prevResult"]["ips"] = Json::array();
    auto c = parse_config(j);
    ASSERT_TRUE(c);
    EXPECT_FALSE(portmap_elements(*c));
    j["runtimeConfig"]["portMappings"] = Json::array();
    c = parse_config(j);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->mappings_given);
    EXPECT_TRUE(portmap_elements(*c)->empty());
    j.erase("runtimeConfig");
    EXPECT_FALSE(parse_config(j)->mappings_given);
}

TEST(PortmapElements, TableLayout) {
    const auto t = portmap_table("net 1");
    EXPECT_EQ(t.family, "inet");
    EXPECT_EQ(t.name.rfind("berth-pm-net_1.", 0), 0u);
    EXPECT_EQ(t.chains.size(), 4u);
    EXPECT_EQ(t.sets.size(), 8u);
    EXPECT_EQ(t.rules.size(), 9u);
    // Held in named variables: a range-for over `*f()` would outlive f()'s temporary.
    auto config = parse_config(base_config());
    ASSERT_TRUE(config);
    auto elements = portmap_elements(*config);
    ASSERT_TRUE(elements);
    for (const auto& e : *elements) EXPECT_NE(t.set(e.set), nullptr) << e.set;
}

}  // namespace
}  // namespace berth::net::portmap
