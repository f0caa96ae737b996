// CNI results: printing in each spec version's shape and reading any version back.
#include <gtest/gtest.h>

#include "net/cni/types.h"

namespace berth::net::cni {
namespace {

CniResult sample() {
    CniResult r;
    r.interfaces = {{.name = "cni0", .mac = "0a:58:0a:00:00:01"},
                    {.name = "veth0123456789a", .mac = "0a:58:0a:00:00:02", .mtu = 1400},
                    {.name = "eth0",
                     .mac = "0a:58:0a:00:00:03",
                     .sandbox = "/run/netns/x",
                     .mtu = 1400,
                     .socket_path = "/run/s.sock",
                     .pci_id = "0000:00:01.0"}};
    r.ips = {{*IpNet::parse("10.0.0.5/24"), IpAddr::parse("10.0.0.1"), 2},
             {*IpNet::parse("fd00::5/64"), IpAddr::parse("fd00::1"), 2}};
    r.routes = {{.dst = *IpNet::parse("0.0.0.0/0"), .gw = IpAddr::parse("10.0.0.1")},
                {.dst = *IpNet::parse("192.168.0.0/16"),
                 .gw = std::nullopt,
                 .mtu = 1300,
                 .advmss = 1200,
                 .priority = 10,
                 .table = 100,
                 .scope = 253}};
    r.dns.nameservers = {"10.0.0.53"};
    r.dns.domain = "example.com";
    r.dns.search = {"a.example.com"};
    r.dns.options = {"ndots:2"};
    return r;
}

TEST(CniResult, PrintsVersionTagsBefore100) {
    for (const char* v : {"0.3.0", "0.3.1", "0.4.0"}) {
        Json j = result_to_json(sample(), v);
        EXPECT_EQ(j["cniVersion"], v);
        EXPECT_EQ(j["ips"][0]["version"], "4") << v;
        EXPECT_EQ(j["ips"][1]["version"], "6") << v;
        EXPECT_FALSE(j["interfaces"][1].contains("mtu")) << v;
        EXPECT_FALSE(j["routes"][1].contains("table")) << v;
    }
    for (const char* v : {"1.0.0", "1.1.0"}) {
        Json j = result_to_json(sample(), v);
        EXPECT_FALSE(j["ips"][0].contains("version")) << v;
        EXPECT_EQ(j["ips"][0]["interface"], 2);
        EXPECT_EQ(j["interfaces"][2]["sandbox"], "/run/netns/x");
    }
}

TEST(CniResult, Prints110Fields) {
    Json j = result_to_json(sample(), "1.1.0");
    EXPECT_EQ(j["interfaces"][1]["mtu"], 1400);
    EXPECT_EQ(j["interfaces"][2]["socketPath"], "/run/s.sock");
    EXPECT_EQ(j["interfaces"][2]["pciID"], "0000:00:01.0");
    EXPECT_EQ(j["routes"][1]["mtu"], 1300);
    EXPECT_EQ(j["routes"][1]["advmss"], 1200);
    EXPECT_EQ(j["routes"][1]["priority"], 10);
    EXPECT_EQ(j["routes"][1]["table"], 100);
    EXPECT_EQ(j["routes"][1]["scope"], 253);
    Json j100 = result_to_json(sample(), "1.0.0");
    EXPECT_FALSE(j100["interfaces"][1].contains("mtu"));
    EXPECT_FALSE(j100["interfaces"][2].contains("socketPath"));
}

TEST(CniResult, RoundTripsEveryVersion) {
    for (const std::string& v : supported_versions()) {
        Json printed = result_to_json(sample(), v);
        auto parsed = parse_result(printed);
        ASSERT_TRUE(parsed) << v << ": " << parsed.error().what();
        // Printing what was read gives the same document.
        EXPECT_EQ(result_to_json(*parsed, v), printed) << v;
        ASSERT_EQ(parsed->ips.size(), 2u);
        EXPECT_EQ(parsed->ips[1].address.str(), "fd00::5/64");
        EXPECT_EQ(parsed->ips[1].interface, 2);
        EXPECT_EQ(parsed->dns.search, std::vector<std::string>{"a.example.com"});
    }
}

TEST(CniResult, ConvertsBetweenVersions) {
    // A 0.4.0 result read and printed as 1.0.0 loses its version tags, and back.
    auto old = parse_result(result_to_json(sample(), "0.4.0"));
    ASSERT_TRUE(old);
    Json as_new = result_to_json(*old, "1.0.0");
    EXPECT_FALSE(as_new["ips"][0].contains("version"));
    auto back = parse_result(as_new);
    ASSERT_TRUE(back);
    EXPECT_EQ(result_to_json(*back, "0.3.1")["ips"][1]["version"], "6");
}

TEST(CniResult, ParsesText) {
    auto r = parse_result(std::string_view(
        R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.0.2/16"}],"dns":{}})"));
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->ips[0].address.str(), "10.1.0.2/16");
    EXPECT_FALSE(r->ips[0].gateway);
    EXPECT_FALSE(r->ips[0].interface);
    EXPECT_FALSE(parse_result(std::string_view("{not json")));
}

void expect_error(const char* text, const char* field) {
    auto r = parse_result(Json::parse(text));
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().what().find(field), std::string::npos) << r.error().what();
}

TEST(CniResult, ErrorsNameTheField) {
    expect_error(R"([])", "result");
    expect_error(R"({"ips":[{"address":"10.0.0.300/24"}]})", "result.ips[0].address");
    expect_error(R"({"ips":[{"gateway":"10.0.0.1"}]})", "result.ips[0].address");
    expect_error(R"({"ips":[{"address":"10.0.0.2/24","gateway":"fd00::1"}]})",
                 "result.ips[0].gateway");
    expect_error(R"({"ips":[{"version":"6","address":"10.0.0.2/24"}]})", "result.ips[0].version");
    expect_error(R"({"ips":[{"version":"5","address":"10.0.0.2/24"}]})", "result.ips[0].version");
    expect_error(
        R"({"interfaces":[{"name":"eth0"}],"ips":[{"address":"10.0.0.2/24","interface":1}]})",
        "result.ips[0].interface");
    expect_error(R"({"interfaces":[{"mac":"aa"}]})", "result.interfaces[0].name");
    expect_error(R"({"routes":[{"gw":"10.0.0.1"}]})", "result.routes[0].dst");
    expect_error(R"({"routes":[{"dst":"0.0.0.0/0","gw":"fd00::1"}]})", "result.routes[0].gw");
    expect_error(R"({"routes":[{"dst":"0.0.0.0/0","mtu":-1}]})", "result.routes[0].mtu");
    expect_error(R"({"dns":{"nameservers":"x"}})", "result.dns.nameservers");
    expect_error(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24"}})", "result.cniVersion");
}

TEST(CniResult, EmptyDnsIsAlwaysPrinted) {
    Json j = result_to_json(CniResult{}, "1.0.0");
    EXPECT_EQ(j.dump(), R"({"cniVersion":"1.0.0","dns":{}})");
}

}  // namespace
}  // namespace berth::net::cni
