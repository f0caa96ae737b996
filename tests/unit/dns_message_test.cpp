// DNS message parsing and building (src/net/dns/message.h): bounds, compression pointers, names.
#include <gtest/gtest.h>

#include "net/dns/message.h"

namespace berth::net::dns {
namespace {

std::vector<uint8_t> query(std::string_view name, uint16_t type, uint16_t id = 0x1234) {
    std::vector<uint8_t> m = {uint8_t(id >> 8), uint8_t(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    auto n = encode_name(name);
    EXPECT_TRUE(n.ok());
    m.insert(m.end(), n->begin(), n->end());
    m.insert(m.end(), {uint8_t(type >> 8), uint8_t(type), 0, 1});
    return m;
}

TEST(DnsMessage, ParsesAQuery) {
    auto q = query("Web.dns.berth", kTypeA);
    auto m = parse_message(q);
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ(m->header.id, 0x1234);
    EXPECT_TRUE(m->header.rd());
    EXPECT_FALSE(m->header.qr());
    ASSERT_EQ(m->questions.size(), 1u);
    EXPECT_EQ(m->questions[0].name, "Web.dns.berth");
    EXPECT_EQ(m->questions[0].type, kTypeA);
    EXPECT_EQ(m->questions_end, q.size());
}

TEST(DnsMessage, RejectsEveryTruncation) {
    auto q = query("a.example.com", kTypeAaaa);
    for (size_t n = 0; n < q.size(); ++n) {
        std::span<const uint8_t> part(q.data(), n);
        EXPECT_FALSE(parse_message(part).ok()) << n;
    }
}

TEST(DnsMessage, PointersMustGoBackwards) {
    // A name that points at itself, and one that points forward.
    std::vector<uint8_t> self = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    EXPECT_FALSE(parse_message(self).ok());
    std::vector<uint8_t> fwd = {0, 1,    0,  0, 0,   1, 0, 0, 0, 0, 0,
                                0, 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1};
    EXPECT_FALSE(parse_message(fwd).ok());
    // Two pointers into each other's past: a chain, not a loop, that ends.
    std::vector<uint8_t> ok = {0, 1, 0, 0, 0, 2, 0,   0,    0,  0, 0, 0, 1, 'a',
                               0, 0, 1, 0, 1, 1, 'b', 0xc0, 12, 0, 1, 0, 1};
    auto m = parse_message(ok);
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ(m->questions[1].name, "b.a");
}

TEST(DnsMessage, NameLimits) {
    EXPECT_FALSE(encode_name(std::string(64, 'a')).ok());
    EXPECT_TRUE(encode_name(std::string(63, 'a')).ok());
    std::string long_name;
    for (int i = 0; i < 5; ++i) long_name += std::string(60, 'x') + ".";
    EXPECT_FALSE(encode_name(long_name).ok());
    EXPECT_FALSE(encode_name("a..b").ok());
    // A wire name over 255 octets made of backward pointers is refused too.
    std::vector<uint8_t> m = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t prev = 0;
    for (int i = 0; i < 10; ++i) {
        size_t at = m.size();
        m.push_back(40);
        m.insert(m.end(), 40, 'z');
        if (i == 0) {
            m.push_back(0);
        } else {
            m.push_back(uint8_t(0xc0 | prev >> 8));
            m.push_back(uint8_t(prev));
        }
        prev = at;
    }
    size_t at = prev;
    EXPECT_FALSE(read_name(m, at).ok());
}

TEST(DnsMessage, CountsBeyondTheBytesAreRefusedCheaply) {
    std::vector<uint8_t> m = {0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    EXPECT_FALSE(parse_message(m).ok());
}

TEST(DnsMessage, ReplyKeepsIdQuestionAndCase) {
    auto q = query("MiXeD.dns.berth", kTypeA, 0xbeef);
    auto m = parse_message(q);
    ASSERT_TRUE(m.ok());
    Answer a{kTypeA, 10, {10, 89, 0, 5}};
    auto r = build_reply(q, *m, kNoError, {a}, true);
    auto p = parse_message(r);
    ASSERT_TRUE(p.ok()) << p.error().what();
    EXPECT_EQ(p->header.id, 0xbeef);
    EXPECT_TRUE(p->header.qr());
    EXPECT_TRUE(p->header.flags & 0x0400);  // AA
    EXPECT_TRUE(p->header.rd());
    EXPECT_EQ(p->questions[0].name, "MiXeD.dns.berth");
    ASSERT_EQ(p->records.size(), 1u);
    EXPECT_EQ(p->records[0].name, "MiXeD.dns.berth");
    EXPECT_EQ(p->records[0].type, kTypeA);
    EXPECT_EQ(p->records[0].rdata_size, 4);
    EXPECT_EQ(r[p->records[0].rdata_offset + 3], 5);
}

TEST(DnsMessage, ReplyQuestionIsUncompressed) {
    // The question's name is a pointer into the header (a fuzzer's find): the reply's header
    // differs, so it must carry the name itself.
    std::vector<uint8_t> q = {3, 'a', 'b', 'c', 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 1, 0, 1};
    q[4] = 0;
    q[5] = 1;
    q[0] = 3;
    auto m = parse_message(q);
    ASSERT_TRUE(m.ok()) << m.error().what();
    auto r = build_reply(q, *m, kNxDomain, {}, true);
    auto p = parse_message(r);
    ASSERT_TRUE(p.ok()) << p.error().what();
    EXPECT_EQ(p->questions.at(0).name, m->questions.at(0).name);
}

}  // namespace
}  // namespace berth::net::dns
