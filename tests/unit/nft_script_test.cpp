// Script building for nftables: quoting, identifiers, table names, attachment tags, and the
// scripts and listings of element tables. No root, no kernel.
#include <gtest/gtest.h>

#include "net/nft/attachment.h"
#include "net/nft/element_table.h"
#include "net/nft/script.h"

namespace berth::net::nft {
namespace {

TEST(NftQuote, QuotesPlainText) {
    EXPECT_EQ(*quote("berth:c1:eth0"), "\"berth:c1:eth0\"");
    EXPECT_EQ(*quote("a b {} ; # $x"), "\"a b {} ; # $x\"");
}

TEST(NftQuote, RefusesWhatCouldEndTheStringOrTheLine) {
    for (std::string_view bad : {"", "a\"b", "a\\b", "a\nb", "a\rb", "a\tb", "\x7f"})
        EXPECT_FALSE(quote(bad)) << bad;
    EXPECT_FALSE(quote("caf\xc3\xa9"));
    EXPECT_FALSE(quote(std::string(129, 'a')));
    EXPECT_TRUE(quote(std::string(128, 'a')));
}

TEST(NftIdentifier, AcceptsOnlyBareNames) {
    EXPECT_TRUE(identifier("berth-pm-net1"));
    EXPECT_TRUE(identifier("berth-pm-a_b.0123456789abcdef"));
    for (std::string_view bad : {"", "1abc", "-x", "a b", "a;b", "a\"b", "a{b", "a$b"})
        EXPECT_FALSE(identifier(bad)) << bad;
    EXPECT_FALSE(identifier(std::string(65, 'a')));
}

TEST(NftTableName, PlainNamesStayReadable) {
    EXPECT_EQ(table_name("berth-pm-", "mynet"), "berth-pm-mynet");
    EXPECT_EQ(table_name("berth-pm-", "my-net_2"), "berth-pm-my-net_2");
}

TEST(NftTableName, OtherNamesAreSanitizedAndHashed) {
    const std::string a = table_name("berth-pm-", "my net; flush ruleset");
    EXPECT_TRUE(identifier(a)) << a;
    EXPECT_EQ(a.rfind("berth-pm-my_net__flush_ruleset.", 0), 0u) << a;
    EXPECT_EQ(a.size(), std::string("berth-pm-my_net__flush_ruleset.").size() + 16);
    // Long odd names keep 24 characters of themselves.
    EXPECT_EQ(table_name("p-", std::string(30, ' ')),
              "p-" + std::string(24, '_') + "." + hex16(hash64(std::string(30, ' '))));
    // Different names that sanitize alike still get different tables.
    EXPECT_NE(table_name("berth-pm-", "a.b"), table_name("berth-pm-", "a/b"));
    // A plain name can never look like a hashed one: only hashed ones have a dot.
    EXPECT_EQ(table_name("berth-pm-", "a.b").find('.'), std::string("berth-pm-a_b").size());
    const std::string long_name(41, 'x');
    EXPECT_TRUE(identifier(table_name("berth-pm-", long_name)));
    EXPECT_NE(table_name("berth-pm-", long_name).find('.'), std::string::npos);
    EXPECT_TRUE(identifier(table_name("berth-macspoof-", std::string(200, '\"'))));
}

TEST(NftIfname, ValidatesAndQuotes) {
    EXPECT_EQ(*quote_ifname("veth1234"), "\"veth1234\"");
    for (std::string_view bad : {"", ".", "..", "a/b", "a:b", "a b", "0123456789abcdef", "a\"b"})
        EXPECT_FALSE(quote_ifname(bad)) << bad;
}

TEST(NftMac, Normalizes) {
    EXPECT_EQ(*normalize_mac("AA:bb:0C:dd:ee:FF"), "aa:bb:0c:dd:ee:ff");
    for (std::string_view bad : {"", "aa:bb:cc:dd:ee", "aa-bb-cc-dd-ee-ff", "gg:bb:cc:dd:ee:ff",
                                 "aa:bb:cc:dd:ee:ff:00", "aa:bb:cc:dd:ee:f\""})
        EXPECT_FALSE(normalize_mac(bad)) << bad;
}

TEST(NftAttachmentTag, ReadableWhenSafeHashedOtherwise) {
    EXPECT_EQ(attachment_tag({"abc123", "eth0"}), "berth:abc123:eth0");
    const std::string odd = attachment_tag({"a\"b c", "eth0"});
    EXPECT_EQ(odd.rfind("berth:h:", 0), 0u);
    EXPECT_TRUE(quote(odd));
    EXPECT_TRUE(quote(attachment_tag({std::string(200, 'a'), "eth0"})));
    EXPECT_NE(attachment_tag({"a", "bc"}), attachment_tag({"ab", "c"}));
    EXPECT_NE(attachment_tag({"x y", "eth0"}), attachment_tag({"x y", "eth1"}));
    EXPECT_TRUE(is_attachment_tag("berth:abc:eth0"));
    EXPECT_TRUE(is_attachment_tag(odd));
    EXPECT_FALSE(is_attachment_tag("berth:static"));
    EXPECT_FALSE(is_attachment_tag("something else"));
}

StaticTable sample_table() {
    StaticTable t{"inet", "berth-pm-n", {}, {}, {}};
    t.sets = {{"hp4_any", {"inet_proto", "inet_service"}, {"ipv4_addr", "inet_service"}, false},
              {"subnets4", {"ipv4_addr"}, {}, true},
              {"checked", {"ifname"}, {}, false},
              {"allowed", {"ifname", "ether_addr"}, {}, false}};
    t.chains = {{"prerouting", "type nat hook prerouting priority dstnat; policy accept;"},
                {"hostports", ""}};
    t.rules = {{"prerouting", "fib daddr type local jump hostports"},
               {"hostports", "dnat ip to meta l4proto . th dport map @hp4_any"}};
    return t;
}

TEST(NftElementTable, CreateScriptFlushesAndReaddsStaticRules) {
    EXPECT_EQ(create_script(sample_table()),
              "add table inet berth-pm-n\n"
              "add map inet berth-pm-n hp4_any { type inet_proto . inet_service : ipv4_addr . "
              "inet_service; flags timeout; }\n"
              "add set inet berth-pm-n subnets4 { type ipv4_addr; flags interval; }\n"
              "add set inet berth-pm-n checked { type ifname; flags timeout; }\n"
              "add set inet berth-pm-n allowed { type ifname . ether_addr; flags timeout; }\n"
              "add chain inet berth-pm-n prerouting { type nat hook prerouting priority dstnat; "
              "policy accept; }\n"
              "add chain inet berth-pm-n hostports\n"
              "flush chain inet berth-pm-n prerouting\n"
              "flush chain inet berth-pm-n hostports\n"
              "add rule inet berth-pm-n prerouting fib daddr type local jump hostports\n"
              "add rule inet berth-pm-n hostports dnat ip to meta l4proto . th dport map "
              "@hp4_any\n");
}

TEST(NftElementTable, AddTagsOnlyTheAttachmentsElements) {
    auto s = add_elements_script(sample_table(), "berth:c1:eth0",
                                 {{"hp4_any", "tcp . 8080", "10.0.0.5 . 80", true},
                                  {"hp4_any", "udp . 53", "10.0.0.5 . 53", true},
                                  {"subnets4", "10.0.0.0/24", "", false}});
    ASSERT_TRUE(s);
    EXPECT_EQ(*s,
              "add element inet berth-pm-n hp4_any { tcp . 8080 comment \"berth:c1:eth0\" : "
              "10.0.0.5 . 80, udp . 53 comment \"berth:c1:eth0\" : 10.0.0.5 . 53 }\n"
              "add element inet berth-pm-n subnets4 { 10.0.0.0/24 }\n");
    EXPECT_FALSE(
        add_elements_script(sample_table(), "bad\"tag", {{"subnets4", "1.2.3.4", "", true}}));
    EXPECT_EQ(*add_elements_script(sample_table(), "berth:c1:eth0", {}), "");
}

TEST(NftElementTable, DeleteByKeyNeverTouchesSharedElements) {
    EXPECT_EQ(
        delete_elements_script(sample_table(), {{"hp4_any", "tcp . 8080", "10.0.0.5 . 80", true},
                                                {"subnets4", "10.0.0.0/24", "", false}}),
        "delete element inet berth-pm-n hp4_any { tcp . 8080 }\n");
}

TEST(NftElementTable, ParsesListingBackIntoScriptText) {
    Json listing = Json::parse(R"({"nftables": [
        {"metainfo": {"version": "1.0.6"}},
        {"table": {"family": "inet", "name": "berth-pm-n", "handle": 1}},
        {"map": {"family": "inet", "name": "hp4_any", "table": "berth-pm-n",
                 "type": ["inet_proto", "inet_service"], "map": "ipv4_addr . inet_service",
                 "elem": [[{"elem": {"val": {"concat": ["tcp", 8080]}, "comment": "berth:c1:eth0"}},
                           {"concat": ["10.0.0.5", 80]}],
                          [{"concat": ["udp", 53]}, {"concat": ["10.0.0.6", 53]}],
                          [{"elem": {"val": {"concat": ["tcp", 1]}, "comment": "berth:c2:eth0"}},
                           {"concat": ["10.0.0.7; flush ruleset", 1]}]]}},
        {"set": {"family": "inet", "name": "subnets4", "table": "berth-pm-n", "type": "ipv4_addr",
                 "flags": ["interval"], "elem": [{"prefix": {"addr": "10.0.0.0", "len": 24}}]}},
        {"set": {"family": "inet", "name": "allowed", "table": "berth-pm-n",
                 "type": ["ifname", "ether_addr"],
                 "elem": [{"elem": {"val": {"concat": ["veth1", "02:00:00:00:00:01"]},
                                    "comment": "berth:c1:eth0"}}]}},
        {"chain": {"family": "inet", "table": "berth-pm-n", "name": "prerouting", "handle": 2}},
        {"rule": {"family": "inet", "table": "berth-pm-n", "chain": "prerouting", "handle": 3,
                  "expr": []}}]})");
    ListedTable t = parse_listing(sample_table(), listing);
    EXPECT_TRUE(t.exists);
    EXPECT_EQ(t.sets, (std::vector<std::string>{"hp4_any", "subnets4", "allowed"}));
    ASSERT_EQ(t.chains.size(), 1u);
    EXPECT_EQ(t.chains[0], (std::pair<std::string, size_t>{"prerouting", 1}));
    // The element with a value that is not plain address text is skipped, never echoed.
    ASSERT_EQ(t.elements.size(), 4u);
    EXPECT_EQ(t.elements[0].element, (Element{"hp4_any", "tcp . 8080", "10.0.0.5 . 80", true}));
    EXPECT_EQ(t.elements[0].comment, "berth:c1:eth0");
    EXPECT_FALSE(t.elements[1].element.tagged);
    EXPECT_EQ(t.elements[2].element, (Element{"subnets4", "10.0.0.0/24", "", false}));
    EXPECT_EQ(t.elements[3].element,
              (Element{"allowed", "\"veth1\" . 02:00:00:00:00:01", "", true}));
}

TEST(NftElementTable, GcPredicate) {
    auto drop = not_in({{"c1", "eth0"}});
    EXPECT_FALSE(drop("berth:c1:eth0"));
    EXPECT_TRUE(drop("berth:c2:eth0"));
}

}  // namespace
}  // namespace berth::net::nft
