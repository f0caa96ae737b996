// berth-bridge's configuration (net/bridge/config.h) and host veth naming (naming.h).
#include <gtest/gtest.h>

#include <set>

#include "net/bridge/config.h"
#include "net/bridge/naming.h"

namespace berth::net::bridge {
namespace {

using cni::Json;

Json base() {
    return Json::parse(R"({"cniVersion":"1.0.0","name":"net1","type":"bridge",
                           "ipam":{"type":"host-local","subnet":"10.1.0.0/24"}})");
}

BridgeConfig parse_ok(const Json& j, std::string_view args = {}) {
    auto r = parse_bridge_config(j, args);
    EXPECT_TRUE(r) << r.error().what();
    return r ? *r : BridgeConfig{};
}

void expect_error(Json j, const char* field) {
    auto r = parse_bridge_config(j, {});
    ASSERT_FALSE(r) << j.dump();
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_NE(r.error().what().find(field), std::string::npos) << r.error().what();
}

TEST(BridgeConfig, Defaults) {
    BridgeConfig c = parse_ok(base());
    EXPECT_EQ(c.name, "net1");
    EXPECT_EQ(c.cni_version, "1.0.0");
    EXPECT_EQ(c.bridge, "cni0");
    EXPECT_FALSE(c.is_gateway || c.is_default_gateway || c.force_address || c.ip_masq);
    EXPECT_FALSE(c.hairpin || c.promisc || c.mac_spoof_check || c.enable_dad);
    EXPECT_FALSE(c.disable_container_interface);
    EXPECT_TRUE(c.preserve_default_vlan);
    EXPECT_EQ(c.mtu, 0u);
    EXPECT_EQ(c.vlan, 0);
    EXPECT_FALSE(c.vlan_filtering());
    EXPECT_EQ(c.ipam_type, "host-local");
    EXPECT_FALSE(c.mac);
    EXPECT_FALSE(c.prev_result);
}

TEST(BridgeConfig, EveryOption) {
    Json j = base();
    j["bridge"] = "br-test";
    j["isDefaultGateway"] = true;
    j["forceAddress"] = true;
    j["ipMasq"] = true;
    j["ipMasqBackend"] = "nftables";
    j["mtu"] = 1400;
    j["hairpinMode"] = true;
    j["vlan"] = 100;
    j["vlanTrunk"] = Json::parse(R"([{"id":101},{"minID":200,"maxID":299}])");
    j["preserveDefaultVlan"] = false;
    j["macspoofchk"] = true;
    j["enabledad"] = true;
    BridgeConfig c = parse_ok(j);
    EXPECT_EQ(c.bridge, "br-test");
    EXPECT_TRUE(c.is_default_gateway);
    EXPECT_TRUE(c.is_gateway);  // implied
    EXPECT_TRUE(c.force_address && c.ip_masq && c.hairpin && c.mac_spoof_check && c.enable_dad);
    EXPECT_EQ(c.mtu, 1400u);
    EXPECT_EQ(c.vlan, 100);
    EXPECT_EQ(c.vlan_trunk, (std::vector<VlanRange>{{101, 101}, {200, 299}}));
    EXPECT_FALSE(c.preserve_default_vlan);
    EXPECT_TRUE(c.vlan_filtering());
}

TEST(BridgeConfig, PromiscAndL2Only) {
    Json j = base();
    j["promiscMode"] = true;
    j["ipam"] = Json::object();
    BridgeConfig c = parse_ok(j);
    EXPECT_TRUE(c.promisc);
    EXPECT_TRUE(c.ipam_type.empty());
    j.erase("ipam");
    EXPECT_TRUE(parse_ok(j).ipam_type.empty());
}

TEST(BridgeConfig, DisableContainerInterfaceTakesBoolOrString) {
    Json j = base();
    j["ipam"] = Json::object();
    j["disableContainerInterface"] = "true";
    EXPECT_TRUE(parse_ok(j).disable_container_interface);
    j["disableContainerInterface"] = false;
    EXPECT_FALSE(parse_ok(j).disable_container_interface);
    j["disableContainerInterface"] = "maybe";
    expect_error(j, "config.disableContainerInterface");
    j["disableContainerInterface"] = true;
    j["ipam"] = {{"type", "host-local"}};
    expect_error(j, "disableContainerInterface");
}

TEST(BridgeConfig, ErrorsNameTheField) {
    auto with = [](const char* key, Json v) {
        Json j = base();
        j[key] = std::move(v);
        return j;
    };
    expect_error(Json::array(), "config");
    Json no_name = base();
    no_name.erase("name");
    expect_error(no_name, "config.name");
    expect_error(with("bridge", 5), "config.bridge");
    expect_error(with("bridge", "a-name-far-too-long"), "config.bridge");
    expect_error(with("bridge", "a/b"), "config.bridge");
    expect_error(with("isGateway", "yes"), "config.isGateway");
    expect_error(with("isDefaultGateway", 1), "config.isDefaultGateway");
    expect_error(with("forceAddress", "true"), "config.forceAddress");
    expect_error(with("ipMasq", 0), "config.ipMasq");
    expect_error(with("ipMasqBackend", "pf"), "config.ipMasqBackend");
    expect_error(with("mtu", "1500"), "config.mtu");
    expect_error(with("mtu", 20), "config.mtu");
    expect_error(with("mtu", 70000), "config.mtu");
    expect_error(with("hairpinMode", "on"), "config.hairpinMode");
    expect_error(with("promiscMode", 1), "config.promiscMode");
    expect_error(with("vlan", 4095), "config.vlan");
    expect_error(with("vlan", -1), "config.vlan");
    expect_error(with("vlan", "100"), "config.vlan");
    expect_error(with("vlanTrunk", Json::parse(R"([{"id":0}])")), "config.vlanTrunk[0].id");
    expect_error(with("vlanTrunk", Json::parse(R"([{"minID":20,"maxID":10}])")),
                 "config.vlanTrunk[0]");
    expect_error(with("vlanTrunk", Json::parse(R"([{"minID":20}])")), "config.vlanTrunk[0]");
    expect_error(with("vlanTrunk", Json::parse(R"([{"minID":1,"maxID":5000}])")),
                 "config.vlanTrunk[0].maxID");
    expect_error(with("preserveDefaultVlan", "no"), "config.preserveDefaultVlan");
    expect_error(with("macspoofchk", 1), "config.macspoofchk");
    expect_error(with("enabledad", "x"), "config.enabledad");
    expect_error(with("ipam", "host-local"), "config.ipam");
    expect_error(with("ipam", Json::parse(R"({"type":"../x"})")), "config.ipam");
    expect_error(with("runtimeConfig", Json::parse(R"({"mac":"zz"})")), "config.runtimeConfig.mac");
    expect_error(with("args", Json::parse(R"({"cni":{"mac":12}})")), "config.args.cni.mac");
    expect_error(with("prevResult", Json::parse(R"({"ips":[{"address":"x"}]})")),
                 "config.prevResult");
    expect_error(with("cni.dev/valid-attachments", Json::parse(R"([{"ifname":"eth0"}])")),
                 "containerID");
}

TEST(BridgeConfig, ConflictingOptions) {
    Json j = base();
    j["hairpinMode"] = true;
    j["promiscMode"] = true;
    expect_error(j, "hairpinMode and promiscMode");
    j = base();
    j["vlan"] = 150;
    j["vlanTrunk"] = Json::parse(R"([{"minID":100,"maxID":200}])");
    expect_error(j, "vlanTrunk");
}

TEST(BridgeConfig, MacFromArgsAndRuntimeConfig) {
    Json j = base();
    EXPECT_EQ(parse_ok(j, "IgnoreUnknown=1;MAC=02:00:00:00:00:01").mac, "02:00:00:00:00:01");
    // Keys for other plugins (host-local's IP) are theirs.
    EXPECT_FALSE(parse_ok(j, "IP=10.1.0.9").mac);
    j["args"] = Json::parse(R"({"cni":{"mac":"02:00:00:00:00:02"}})");
    EXPECT_EQ(parse_ok(j, "MAC=02:00:00:00:00:01").mac, "02:00:00:00:00:02");
    j["runtimeConfig"] = Json::parse(R"({"mac":"02:00:00:00:00:03"})");
    EXPECT_EQ(parse_ok(j, "MAC=02:00:00:00:00:01").mac, "02:00:00:00:00:03");
    auto bad = parse_bridge_config(base(), "MAC=nope");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().what().find("CNI_ARGS MAC"), std::string::npos);
    EXPECT_FALSE(parse_bridge_config(base(), "garbage"));
}

TEST(BridgeConfig, PrevResultAndValidAttachments) {
    Json j = base();
    j["prevResult"] = Json::parse(R"({"cniVersion":"0.4.0",
        "interfaces":[{"name":"cni0"},{"name":"veth1"},{"name":"eth0","sandbox":"/run/netns/x"}],
        "ips":[{"version":"4","address":"10.1.0.2/24","gateway":"10.1.0.1","interface":2}]})");
    j["cni.dev/valid-attachments"] =
        Json::parse(R"([{"containerID":"a","ifname":"eth0"},{"containerID":"b","ifname":"net1"}])");
    BridgeConfig c = parse_ok(j);
    ASSERT_TRUE(c.prev_result);
    EXPECT_EQ(c.prev_result->interfaces[2].sandbox, "/run/netns/x");
    EXPECT_EQ(c.prev_result->ips[0].interface, 2);
    ASSERT_EQ(c.valid_attachments.size(), 2u);
    EXPECT_EQ(c.valid_attachments[1].container_id, "b");
    EXPECT_EQ(c.valid_attachments[1].ifname, "net1");
}

TEST(BridgeNaming, HostVethNamesAreStableAndDistinct) {
    std::string a = host_veth_name("container-a", "eth0");
    EXPECT_EQ(a, host_veth_name("container-a", "eth0"));
    EXPECT_EQ(a.size(), 15u);
    EXPECT_TRUE(is_host_veth_name(a));
    EXPECT_NE(a, host_veth_name("container-a", "eth1"));
    EXPECT_NE(a, host_veth_name("container-b", "eth0"));
    // The parts are delimited: ("ab", "c") is not ("a", "bc").
    EXPECT_NE(host_veth_name("ab", "c"), host_veth_name("a", "bc"));
    std::set<std::string> seen;
    for (int i = 0; i < 10000; i++) seen.insert(host_veth_name("c" + std::to_string(i), "eth0"));
    EXPECT_EQ(seen.size(), 10000u);
}

TEST(BridgeNaming, RecognisesOnlyItsOwnShape) {
    EXPECT_FALSE(is_host_veth_name("veth1234abcd"));     // the reference plugin's random names
    EXPECT_FALSE(is_host_veth_name("veth1234abcdXYZ"));  // not hex
    EXPECT_FALSE(is_host_veth_name("eth0"));
    std::string gw = vlan_gateway_port_name("cni0", 100);
    EXPECT_EQ(gw.size(), 15u);
    EXPECT_FALSE(is_host_veth_name(gw));
    EXPECT_NE(gw, vlan_gateway_port_name("cni0", 101));
}

}  // namespace
}  // namespace berth::net::bridge
