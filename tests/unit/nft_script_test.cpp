// Script building for nftables: quoting, identifiers, table names, attachment tags, and the
// read-modify-write scripts of owned tables. No root, no kernel.
#include <gtest/gtest.h>

#include "net/nft/attachment.h"
#include "net/nft/owned_table.h"
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
    EXPECT_FALSE(is_attachment_tag(kStaticTag));
    EXPECT_FALSE(is_attachment_tag("something else"));
}

OwnedTable sample_table() {
    return {"inet",
            "berth-pm-n",
            {{"prerouting", "type nat hook prerouting priority dstnat; policy accept;"},
             {"hostports", ""}},
            {{"prerouting", "fib daddr type local jump hostports"}}};
}

TableState sample_state() {
    Json listing = Json::parse(R"({"nftables": [
        {"metainfo": {"version": "1.0.6"}},
        {"table": {"family": "inet", "name": "berth-pm-n", "handle": 1}},
        {"chain": {"family": "inet", "table": "berth-pm-n", "name": "prerouting", "handle": 1}},
        {"chain": {"family": "inet", "table": "berth-pm-n", "name": "hostports", "handle": 2}},
        {"rule": {"family": "inet", "table": "berth-pm-n", "chain": "prerouting", "handle": 3,
                  "comment": "berth:static", "expr": []}},
        {"rule": {"family": "inet", "table": "berth-pm-n", "chain": "hostports", "handle": 4,
                  "comment": "berth:c1:eth0", "expr": [{"dnat": {"addr": "10.0.0.5"}}]}},
        {"rule": {"family": "inet", "table": "berth-pm-n", "chain": "hostports", "handle": 5,
                  "comment": "berth:c2:eth0", "expr": []}}]})");
    return parse_listing(listing);
}

TEST(NftOwnedTable, ParsesListing) {
    TableState st = sample_state();
    EXPECT_TRUE(st.exists);
    EXPECT_EQ(st.chains, (std::vector<std::string>{"prerouting", "hostports"}));
    ASSERT_EQ(st.rules.size(), 3u);
    EXPECT_EQ(st.rules[1].handle, 4u);
    EXPECT_EQ(st.rules[1].comment, "berth:c1:eth0");
    EXPECT_EQ(st.rules[1].chain, "hostports");
}

TEST(NftOwnedTable, FreshTableGetsChainsStaticRulesAndNewRules) {
    auto s = replace_script(sample_table(), TableState{}, "berth:c1:eth0",
                            {{"hostports", "tcp dport 80 dnat ip to 10.0.0.5:80"}});
    ASSERT_TRUE(s);
    EXPECT_EQ(*s,
              "add table inet berth-pm-n\n"
              "add chain inet berth-pm-n prerouting { type nat hook prerouting priority dstnat; "
              "policy accept; }\n"
              "add chain inet berth-pm-n hostports\n"
              "add rule inet berth-pm-n prerouting fib daddr type local jump hostports comment "
              "\"berth:static\"\n"
              "add rule inet berth-pm-n hostports tcp dport 80 dnat ip to 10.0.0.5:80 comment "
              "\"berth:c1:eth0\"\n");
}

TEST(NftOwnedTable, ReAddReplacesOnlyItsOwnRules) {
    auto s = replace_script(sample_table(), sample_state(), "berth:c1:eth0",
                            {{"hostports", "udp dport 53 dnat ip to 10.0.0.5:53"}});
    ASSERT_TRUE(s);
    EXPECT_NE(s->find("delete rule inet berth-pm-n hostports handle 4\n"), std::string::npos);
    EXPECT_EQ(s->find("handle 5"), std::string::npos);
    EXPECT_EQ(s->find("handle 3"), std::string::npos);
    EXPECT_EQ(s->find("jump hostports"), std::string::npos);  // the static rule is there
    EXPECT_NE(s->find("udp dport 53"), std::string::npos);
}

TEST(NftOwnedTable, DeleteKeepsTableWhileOthersRemain) {
    auto s = delete_script(sample_table(), sample_state(),
                           [](std::string_view t) { return t == "berth:c1:eth0"; });
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, "delete rule inet berth-pm-n hostports handle 4\n");
}

TEST(NftOwnedTable, DeletingTheLastAttachmentDeletesTheTable) {
    auto s = delete_script(sample_table(), sample_state(), [](std::string_view) { return true; });
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, "delete table inet berth-pm-n\n");
}

TEST(NftOwnedTable, AbsentTableNeedsNothing) {
    auto s = delete_script(sample_table(), TableState{}, [](std::string_view) { return true; });
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->empty());
}

TEST(NftOwnedTable, ForeignRulesKeepTheTable) {
    TableState st = sample_state();
    st.rules.push_back({"hostports", 9, "added by hand", {}});
    auto s = delete_script(sample_table(), st, [](std::string_view) { return true; });
    ASSERT_TRUE(s);
    EXPECT_EQ(s->find("delete table"), std::string::npos);
    EXPECT_NE(s->find("handle 4"), std::string::npos);
    EXPECT_NE(s->find("handle 5"), std::string::npos);
    EXPECT_EQ(s->find("handle 9"), std::string::npos);
}

}  // namespace
}  // namespace berth::net::nft
