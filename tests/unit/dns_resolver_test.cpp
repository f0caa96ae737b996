// berth-dns's answers from its records (src/net/dns/resolver.h, records.h).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "net/dns/message.h"
#include "net/dns/resolver.h"

namespace berth::net::dns {
namespace {

std::vector<uint8_t> query(std::string_view name, uint16_t type) {
    std::vector<uint8_t> m = {0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    auto n = encode_name(name);
    EXPECT_TRUE(n.ok());
    m.insert(m.end(), n->begin(), n->end());
    m.insert(m.end(), {uint8_t(type >> 8), uint8_t(type), 0, 1});
    return m;
}

Records sample() {
    auto r = parse_records(
        "# comment\n"
        "aaaa1111bbbb2222\tweb,aaaa1111bbbb\t10.89.0.5,fd00::5\n"
        "cccc\tdb\t10.89.0.6\n");
    EXPECT_TRUE(r.ok()) << r.error().what();
    return *r;
}

struct Got {
    uint8_t rcode;
    std::vector<std::string> answers;  // A/AAAA as text, PTR as the name
};

Got ask(const Records& r, std::string_view name, uint16_t type) {
    auto q = query(name, type);
    Decision d = resolve(r, q);
    EXPECT_EQ(d.action, Action::reply);
    auto m = parse_message(d.reply);
    EXPECT_TRUE(m.ok());
    Got g{m->header.rcode(), {}};
    for (const auto& rr : m->records) {
        if (rr.type == kTypeA || rr.type == kTypeAaaa) {
            Address a;
            a.family = rr.type == kTypeA ? AF_INET : AF_INET6;
            std::copy_n(d.reply.begin() + long(rr.rdata_offset), rr.rdata_size, a.bytes);
            g.answers.push_back(a.str());
        } else if (rr.type == kTypePtr) {
            size_t at = rr.rdata_offset;
            g.answers.push_back(*read_name(d.reply, at));
        }
    }
    return g;
}

TEST(DnsResolver, NamesAliasesAndDomain) {
    Records r = sample();
    EXPECT_EQ(ask(r, "web", kTypeA).answers, std::vector<std::string>{"10.89.0.5"});
    EXPECT_EQ(ask(r, "WEB.dns.berth", kTypeA).answers, std::vector<std::string>{"10.89.0.5"});
    EXPECT_EQ(ask(r, "aaaa1111bbbb", kTypeA).answers, std::vector<std::string>{"10.89.0.5"});
    EXPECT_EQ(ask(r, "web", kTypeAaaa).answers, std::vector<std::string>{"fd00::5"});
    // Ours, but no IPv6 address: NOERROR without answers.
    Got db6 = ask(r, "db", kTypeAaaa);
    EXPECT_EQ(db6.rcode, kNoError);
    EXPECT_TRUE(db6.answers.empty());
}

TEST(DnsResolver, UnknownUnderTheDomainIsNxdomain) {
    EXPECT_EQ(ask(sample(), "nosuch.dns.berth", kTypeA).rcode, kNxDomain);
}

TEST(DnsResolver, OthersAreForwarded) {
    Records r = sample();
    for (auto name : {"example.com", "nosuch", "web.example.com"}) {
        auto q = query(name, kTypeA);
        EXPECT_EQ(resolve(r, q).action, Action::forward) << name;
    }
    auto q = query("1.0.0.10.in-addr.arpa", kTypePtr);
    EXPECT_EQ(resolve(r, q).action, Action::forward);
}

TEST(DnsResolver, Ptr) {
    Records r = sample();
    EXPECT_EQ(ask(r, "5.0.89.10.in-addr.arpa", kTypePtr).answers,
              std::vector<std::string>{"web.dns.berth"});
    std::string v6;
    for (int i = 0; i < 32; ++i) v6 += (i == 0 ? "5." : "0.");
    v6 = v6.substr(0, v6.size() - 1);
    // fd00::5: the last nibble first, the first (f, d) last.
    v6 = v6.substr(0, v6.size() - 3) + "d.f.ip6.arpa";
    EXPECT_EQ(ask(r, v6, kTypePtr).answers, std::vector<std::string>{"web.dns.berth"});
}

TEST(DnsResolver, RepliesAndGarbageAreNotAnswered) {
    Records r = sample();
    auto q = query("web", kTypeA);
    q[2] |= 0x80;  // QR: a reply
    EXPECT_EQ(resolve(r, q).action, Action::drop);
    std::vector<uint8_t> tiny = {1, 2, 3};
    EXPECT_EQ(resolve(r, tiny).action, Action::drop);
    // A header that promises a question it does not carry: FORMERR.
    std::vector<uint8_t> bad = {0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a'};
    Decision d = resolve(r, bad);
    ASSERT_EQ(d.action, Action::reply);
    EXPECT_EQ(parse_header(d.reply)->rcode(), kFormErr);
}

TEST(DnsRecords, RoundTripAndErrors) {
    Records r = sample();
    auto again = parse_records(format_records(r));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(format_records(*again), format_records(r));
    EXPECT_FALSE(parse_records("x\n").ok());
    EXPECT_FALSE(parse_records("x\ty\tz\tw\n").ok());
    EXPECT_FALSE(parse_records("id\tname\tnot-an-ip\n").ok());
    EXPECT_FALSE(parse_records("id\tna me\t10.0.0.1\n").ok());
    // An entry without addresses survives its own format (the trailing tab).
    auto bare = parse_records("abc\tweb\t\n");
    ASSERT_TRUE(bare.ok());
    EXPECT_TRUE(parse_records(format_records(*bare)).ok());
    r.remove("cccc");
    EXPECT_EQ(r.entries.size(), 1u);
    EXPECT_EQ(r.find_name("DB"), nullptr);
}

TEST(DnsRecords, ResolvConf) {
    auto ns = resolv_conf_nameservers(
        "# x\nnameserver 127.0.0.53\nsearch a b\nnameserver  fe80::1%eth0\nnameserver bad\n"
        "nameserver 1.1.1.1\nnameserver 8.8.8.8\n");
    ASSERT_EQ(ns.size(), 3u);
    EXPECT_EQ(ns[0].str(), "127.0.0.53");
    EXPECT_EQ(ns[1].str(), "fe80::1");
    EXPECT_EQ(ns[2].str(), "1.1.1.1");
}

}  // namespace
}  // namespace berth::net::dns
