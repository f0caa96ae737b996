// The raw nf_tables element encoder (net/nft/element_wire.h): data bytes per nft type, and the
// batch's messages and attributes. The expected bytes are what `nft --debug=netlink` (1.0.6)
// shows it sends for the same elements. No root, no kernel.
#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "net/nft/element_wire.h"

namespace berth::net::nft {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes data(const std::vector<std::string>& types, std::string_view text) {
    auto r = encode_data(types, text);
    EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message());
    return r ? *r : Bytes{};
}

TEST(NftElementWire, ScalarTypes) {
    EXPECT_EQ(data({"ipv4_addr"}, "10.80.0.5"), (Bytes{10, 80, 0, 5}));
    EXPECT_EQ(data({"ipv6_addr"}, "fd00::5"),
              (Bytes{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}));
    EXPECT_EQ(data({"inet_service"}, "30001"), (Bytes{0x75, 0x31}));
    EXPECT_EQ(data({"inet_proto"}, "tcp"), (Bytes{6}));
    EXPECT_EQ(data({"inet_proto"}, "udp"), (Bytes{17}));
    EXPECT_EQ(data({"inet_proto"}, "sctp"), (Bytes{132}));
    EXPECT_EQ(data({"ether_addr"}, "02:00:00:00:0a:ff"), (Bytes{2, 0, 0, 0, 10, 0xff}));
    Bytes ifname(16, 0);
    std::memcpy(ifname.data(), "vethabc", 7);
    EXPECT_EQ(data({"ifname"}, "\"vethabc\""), ifname);
}

TEST(NftElementWire, ConcatenationsPadEachFieldToFourBytes) {
    // nft: element 00000006 00003175 : 0500500a 00005000
    EXPECT_EQ(data({"inet_proto", "inet_service"}, "tcp . 30001"),
              (Bytes{6, 0, 0, 0, 0x75, 0x31, 0, 0}));
    EXPECT_EQ(data({"ipv4_addr", "inet_service"}, "10.80.0.5 . 80"),
              (Bytes{10, 80, 0, 5, 0, 80, 0, 0}));
    // nft: element 68746576 00636261 00000000 00000000 00000002 00000100
    Bytes allowed(24, 0);
    std::memcpy(allowed.data(), "vethabc", 7);
    allowed[16] = 2;
    allowed[21] = 1;
    EXPECT_EQ(data({"ifname", "ether_addr"}, "\"vethabc\" . 02:00:00:00:00:01"), allowed);
    EXPECT_EQ(data({"ipv6_addr", "inet_proto", "inet_service", "ipv6_addr", "inet_service"},
                   ":: . tcp . 8080 . fd00::5 . 80")
                  .size(),
              16u + 4 + 4 + 16 + 4);
}

TEST(NftElementWire, RefusesWhatDoesNotParse) {
    EXPECT_FALSE(encode_data({"ipv4_addr"}, "fd00::1"));
    EXPECT_FALSE(encode_data({"ipv6_addr"}, "10.0.0.1"));
    EXPECT_FALSE(encode_data({"inet_service"}, "65536"));
    EXPECT_FALSE(encode_data({"inet_proto"}, "icmpx"));
    EXPECT_FALSE(encode_data({"ifname"}, "vethabc"));  // unquoted
    EXPECT_FALSE(encode_data({"ifname"}, "\"0123456789abcdef\""));
    EXPECT_FALSE(encode_data({"ether_addr"}, "02:00:00:00:00"));
    EXPECT_FALSE(encode_data({"ether_addr"}, "02-00-00-00-00-01"));
    EXPECT_FALSE(encode_data({"inet_proto", "inet_service"}, "tcp"));
    EXPECT_FALSE(encode_data({"inet_proto"}, "tcp . 80"));
    EXPECT_FALSE(encode_data({"bogus_type"}, "1"));
}

StaticTable sample_table() {
    StaticTable t{"inet", "berth-pm-n1", {}, {}, {}};
    t.sets = {{"hp4_any", {"inet_proto", "inet_service"}, {"ipv4_addr", "inet_service"}, false},
              {"masq4", {"ipv4_addr"}, {}, false},
              {"subnets4", {"ipv4_addr"}, {}, true},
              {"subnets6", {"ipv6_addr"}, {}, true}};
    return t;
}

// A decoded element: its key, data, flags and user data.
struct Decoded {
    Bytes key, value, udata;
    uint32_t flags = 0;
    uint64_t timeout_ms = 0;
};
struct DecodedMessage {
    uint16_t type = 0, flags = 0;
    uint32_t seq = 0;
    uint8_t family = 0;
    uint16_t res_id = 0;
    std::string table, set;
    std::vector<Decoded> elements;
};

// Calls f on each attribute in [begin, end) (libmnl's iteration macros are C only).
template <typename F>
void each_attr(const void* begin, const void* end, F f) {
    auto* a = static_cast<const nlattr*>(begin);
    int left = static_cast<int>(static_cast<const char*>(end) - static_cast<const char*>(begin));
    while (mnl_attr_ok(a, left)) {
        f(a);
        left -= static_cast<int>(MNL_ALIGN(a->nla_len));
        a = mnl_attr_next(a);
    }
    EXPECT_EQ(left, 0) << "trailing attribute bytes";
}

template <typename F>
void each_nested(const nlattr* nest, F f) {
    each_attr(mnl_attr_get_payload(nest), reinterpret_cast<const char*>(nest) + nest->nla_len, f);
}

Bytes value_of(const nlattr* nest) {
    Bytes out;
    each_nested(nest, [&](const nlattr* v) {
        if (mnl_attr_get_type(v) != NFTA_DATA_VALUE) return;
        auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(v));
        out.assign(p, p + mnl_attr_get_payload_len(v));
    });
    return out;
}

// A copy: libmnl's iteration macros want mutable pointers.
std::vector<DecodedMessage> decode(Bytes bytes) {
    std::vector<DecodedMessage> out;
    int len = static_cast<int>(bytes.size());
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(bytes.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
        DecodedMessage m;
        m.type = nlh->nlmsg_type;
        m.flags = nlh->nlmsg_flags;
        m.seq = nlh->nlmsg_seq;
        auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
        m.family = nfg->nfgen_family;
        m.res_id = ntohs(nfg->res_id);
        each_attr(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)),
                  mnl_nlmsg_get_payload_tail(nlh), [&](const nlattr* a) {
                      switch (mnl_attr_get_type(a)) {
                          case NFTA_SET_ELEM_LIST_TABLE:
                              m.table = mnl_attr_get_str(a);
                              break;
                          case NFTA_SET_ELEM_LIST_SET:
                              m.set = mnl_attr_get_str(a);
                              break;
                          case NFTA_SET_ELEM_LIST_ELEMENTS: {
                              EXPECT_TRUE(a->nla_type & NLA_F_NESTED);
                              each_nested(a, [&](const nlattr* e) {
                                  EXPECT_EQ(mnl_attr_get_type(e), NFTA_LIST_ELEM);
                                  Decoded d;
                                  each_nested(e, [&](const nlattr* f) {
                                      switch (mnl_attr_get_type(f)) {
                                          case NFTA_SET_ELEM_KEY:
                                              d.key = value_of(f);
                                              break;
                                          case NFTA_SET_ELEM_DATA:
                                              d.value = value_of(f);
                                              break;
                                          case NFTA_SET_ELEM_FLAGS:
                                              d.flags = ntohl(mnl_attr_get_u32(f));
                                              break;
                                          case NFTA_SET_ELEM_TIMEOUT:
                                              d.timeout_ms = be64toh(mnl_attr_get_u64(f));
                                              break;
                                          case NFTA_SET_ELEM_USERDATA: {
                                              auto* p = static_cast<const uint8_t*>(
                                                  mnl_attr_get_payload(f));
                                              d.udata.assign(p, p + mnl_attr_get_payload_len(f));
                                              break;
                                          }
                                          default:
                                              ADD_FAILURE() << "unexpected element attribute";
                                      }
                                  });
                                  m.elements.push_back(d);
                              });
                              break;
                          }
                          default:
                              ADD_FAILURE() << "unexpected attribute " << mnl_attr_get_type(a);
                      }
                  });
        out.push_back(m);
    }
    EXPECT_EQ(len, 0) << "trailing bytes";
    return out;
}

constexpr uint16_t kNewSetElem = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
constexpr uint16_t kDelSetElem = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELSETELEM;
constexpr uint16_t kGetSetElem = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM;

TEST(NftElementWire, AddBatchIsOneTransactionWithOneAckedMessagePerSet) {
    const std::vector<Element> elements = {
        {"hp4_any", "tcp . 30001", "10.80.0.5 . 80", true},
        {"masq4", "10.80.0.5", "", true},
        {"subnets4", "10.80.0.0/16", "", false},
        {"masq4", "10.80.0.6", "", true},
    };
    auto batch =
        encode_element_batch(sample_table(), "berth:c1:eth0", elements, ElementOp::kAdd, 41);
    ASSERT_TRUE(batch) << batch.error().message();
    EXPECT_EQ(batch->first_seq, 41u);
    EXPECT_EQ(batch->sets, (std::vector<std::string>{"hp4_any", "masq4", "subnets4"}));
    const auto msgs = decode(batch->bytes);
    ASSERT_EQ(msgs.size(), 5u);

    EXPECT_EQ(msgs[0].type, NFNL_MSG_BATCH_BEGIN);
    EXPECT_EQ(msgs[0].res_id, NFNL_SUBSYS_NFTABLES);
    EXPECT_EQ(msgs[0].seq, 41u);
    EXPECT_EQ(msgs[4].type, NFNL_MSG_BATCH_END);
    EXPECT_EQ(msgs[4].res_id, NFNL_SUBSYS_NFTABLES);
    EXPECT_EQ(msgs[4].seq, 45u);
    for (size_t i = 1; i <= 3; i++) {
        EXPECT_EQ(msgs[i].type, kNewSetElem);
        EXPECT_EQ(msgs[i].flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);  // no NLM_F_EXCL
        EXPECT_EQ(msgs[i].seq, 41u + i);
        EXPECT_EQ(msgs[i].family, NFPROTO_INET);
        EXPECT_EQ(msgs[i].table, "berth-pm-n1");
    }

    // The map element: key, data and nft's comment (userdata = { \x00\x0eberth:c1:eth0\x00 }).
    ASSERT_EQ(msgs[1].elements.size(), 1u);
    const Decoded& pm = msgs[1].elements[0];
    EXPECT_EQ(pm.key, (Bytes{6, 0, 0, 0, 0x75, 0x31, 0, 0}));
    EXPECT_EQ(pm.value, (Bytes{10, 80, 0, 5, 0, 80, 0, 0}));
    EXPECT_EQ(pm.flags, 0u);
    Bytes udata{0, 14};
    for (char c : std::string("berth:c1:eth0")) udata.push_back(static_cast<uint8_t>(c));
    udata.push_back(0);
    EXPECT_EQ(pm.udata, udata);

    // Both addresses in one message for their set, in order.
    EXPECT_EQ(msgs[2].set, "masq4");
    ASSERT_EQ(msgs[2].elements.size(), 2u);
    EXPECT_EQ(msgs[2].elements[0].key, (Bytes{10, 80, 0, 5}));
    EXPECT_EQ(msgs[2].elements[1].key, (Bytes{10, 80, 0, 6}));
    EXPECT_TRUE(msgs[2].elements[1].value.empty());

    // The interval, as nft sends it into a fresh set: end at zero, start, end after the prefix;
    // untagged, so no comment.
    EXPECT_EQ(msgs[3].set, "subnets4");
    ASSERT_EQ(msgs[3].elements.size(), 3u);
    EXPECT_EQ(msgs[3].elements[0].key, (Bytes{0, 0, 0, 0}));
    EXPECT_EQ(msgs[3].elements[0].flags, uint32_t{NFT_SET_ELEM_INTERVAL_END});
    EXPECT_EQ(msgs[3].elements[1].key, (Bytes{10, 80, 0, 0}));
    EXPECT_EQ(msgs[3].elements[1].flags, 0u);
    EXPECT_EQ(msgs[3].elements[2].key, (Bytes{10, 81, 0, 0}));
    EXPECT_EQ(msgs[3].elements[2].flags, uint32_t{NFT_SET_ELEM_INTERVAL_END});
    for (const Decoded& d : msgs[3].elements) EXPECT_TRUE(d.udata.empty());
}

TEST(NftElementWire, IntervalEdges) {
    const std::vector<Element> elements = {
        {"subnets6", "fd00:1::/64", "", false},
        {"subnets4", "0.0.0.0/1", "", false},         // starts at zero: no zero end
        {"subnets4", "255.255.255.0/24", "", false},  // reaches the top: no end
    };
    auto batch = encode_element_batch(sample_table(), "t:a:b", elements, ElementOp::kAdd, 1);
    ASSERT_TRUE(batch) << batch.error().message();
    const auto msgs = decode(batch->bytes);
    ASSERT_EQ(msgs.size(), 4u);
    ASSERT_EQ(msgs[1].elements.size(), 3u);  // zero end, start, end
    Bytes end6(16, 0);
    end6[0] = 0xfd;
    end6[3] = 1;
    end6[7] = 1;
    EXPECT_EQ(msgs[1].elements[2].key, end6);
    // One message for both IPv4 intervals, and no end at zero: an interval starts there.
    ASSERT_EQ(msgs[2].elements.size(), 3u);
    EXPECT_EQ(msgs[2].elements[0].key, (Bytes{0, 0, 0, 0}));  // start of 0.0.0.0/1
    EXPECT_EQ(msgs[2].elements[0].flags, 0u);
    EXPECT_EQ(msgs[2].elements[1].key, (Bytes{128, 0, 0, 0}));
    EXPECT_EQ(msgs[2].elements[1].flags, uint32_t{NFT_SET_ELEM_INTERVAL_END});
    EXPECT_EQ(msgs[2].elements[2].key, (Bytes{255, 255, 255, 0}));
    EXPECT_EQ(msgs[2].elements[2].flags, 0u);
}

TEST(NftElementWire, DeleteBatchCarriesTaggedKeysOnly) {
    const std::vector<Element> elements = {
        {"hp4_any", "udp . 53", "10.80.0.5 . 53", true},
        {"subnets4", "10.80.0.0/16", "", false},
    };
    auto batch =
        encode_element_batch(sample_table(), "berth:c1:eth0", elements, ElementOp::kDelete, 7);
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->sets, (std::vector<std::string>{"hp4_any"}));
    const auto msgs = decode(batch->bytes);
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_EQ(msgs[1].type, kDelSetElem);
    EXPECT_EQ(msgs[1].flags, NLM_F_REQUEST | NLM_F_ACK);
    ASSERT_EQ(msgs[1].elements.size(), 1u);
    EXPECT_EQ(msgs[1].elements[0].key, (Bytes{17, 0, 0, 0, 0, 53, 0, 0}));
    EXPECT_TRUE(msgs[1].elements[0].value.empty());  // by key only
    EXPECT_TRUE(msgs[1].elements[0].udata.empty());

    // Nothing tagged: nothing to send.
    auto none = encode_element_batch(sample_table(), "x", {elements[1]}, ElementOp::kDelete, 1);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->sets.empty());
    EXPECT_TRUE(none->bytes.empty());
}

TEST(NftElementWire, ExpireBatchUpdatesTaggedElementsTimeouts) {
    const std::vector<Element> elements = {
        {"hp4_any", "tcp . 8080", "10.80.0.5 . 80", true},
        {"subnets4", "10.80.0.0/16", "", false},
        {"masq4", "10.80.0.5", "", true},
    };
    auto batch =
        encode_element_batch(sample_table(), "berth:c1:eth0", elements, ElementOp::kExpire, 3);
    ASSERT_TRUE(batch) << batch.error().message();
    EXPECT_EQ(batch->sets, (std::vector<std::string>{"hp4_any", "masq4"}));
    const auto msgs = decode(batch->bytes);
    ASSERT_EQ(msgs.size(), 4u);
    for (size_t i : {1u, 2u}) {
        // An update: neither NLM_F_CREATE nor NLM_F_EXCL.
        EXPECT_EQ(msgs[i].type, kNewSetElem);
        EXPECT_EQ(msgs[i].flags, NLM_F_REQUEST | NLM_F_ACK);
        ASSERT_EQ(msgs[i].elements.size(), 1u);
        EXPECT_EQ(msgs[i].elements[0].timeout_ms, kExpireAfterMs);
        EXPECT_TRUE(msgs[i].elements[0].udata.empty());
    }
    // A map's element carries its value: the kernel refuses (EEXIST) a key mapped elsewhere.
    EXPECT_EQ(msgs[1].elements[0].value, (Bytes{10, 80, 0, 5, 0, 80, 0, 0}));
    EXPECT_EQ(msgs[2].elements[0].key, (Bytes{10, 80, 0, 5}));
}

TEST(NftElementWire, QueriesAreOneGetPerTaggedElement) {
    const std::vector<Element> elements = {
        {"masq4", "10.80.0.5", "", true},
        {"subnets4", "10.80.0.0/16", "", false},
        {"hp4_any", "udp . 53", "10.80.0.5 . 53", true},
    };
    auto q = encode_element_queries(sample_table(), elements, 20);
    ASSERT_TRUE(q) << q.error().message();
    EXPECT_EQ(q->first_seq, 20u);
    EXPECT_EQ(q->index, (std::vector<size_t>{0, 2}));
    const auto msgs = decode(q->bytes);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[0].type, kGetSetElem);
    EXPECT_EQ(msgs[0].flags, NLM_F_REQUEST | NLM_F_ACK);
    EXPECT_EQ(msgs[0].seq, 20u);
    EXPECT_EQ(msgs[0].set, "masq4");
    ASSERT_EQ(msgs[0].elements.size(), 1u);
    EXPECT_EQ(msgs[0].elements[0].key, (Bytes{10, 80, 0, 5}));
    EXPECT_EQ(msgs[1].seq, 21u);
    EXPECT_EQ(msgs[1].set, "hp4_any");
    EXPECT_TRUE(msgs[1].elements[0].value.empty());

    StaticTable t = sample_table();
    EXPECT_FALSE(
        encode_element_queries(t, std::vector<Element>{{"subnets4", "10.0.0.0/8", "", true}}, 1));
    EXPECT_FALSE(
        encode_element_queries(t, std::vector<Element>{{"nosuch", "10.0.0.1", "", true}}, 1));
}

TEST(NftElementWire, CommentOfAnElementAsTheKernelAnswers) {
    // The kernel's answer to a GET has the shape of the add message: encode one and read it.
    auto batch = encode_element_batch(sample_table(), "berth:c9:eth1",
                                      {{"masq4", "10.80.0.9", "", true}}, ElementOp::kAdd, 1);
    ASSERT_TRUE(batch);
    Bytes bytes = batch->bytes;
    auto* begin = reinterpret_cast<nlmsghdr*>(bytes.data());
    auto* msg = reinterpret_cast<nlmsghdr*>(bytes.data() + MNL_ALIGN(begin->nlmsg_len));
    EXPECT_EQ(element_comment(msg), "berth:c9:eth1");
    EXPECT_EQ(element_comment(begin), "");  // no elements at all

    auto untagged = encode_element_batch(sample_table(), "x", {{"masq4", "10.1.1.1", "", false}},
                                         ElementOp::kAdd, 1);
    ASSERT_TRUE(untagged);
    bytes = untagged->bytes;
    begin = reinterpret_cast<nlmsghdr*>(bytes.data());
    msg = reinterpret_cast<nlmsghdr*>(bytes.data() + MNL_ALIGN(begin->nlmsg_len));
    EXPECT_EQ(element_comment(msg), "");
}

TEST(NftElementWire, CommentOfATruncatedOrGarbledAnswerStaysInBounds) {
    auto batch = encode_element_batch(sample_table(), "berth:c9:eth1",
                                      {{"masq4", "10.80.0.9", "", true}}, ElementOp::kAdd, 1);
    ASSERT_TRUE(batch);
    const Bytes whole = batch->bytes;
    const auto* first = reinterpret_cast<const nlmsghdr*>(whole.data());
    const size_t at = MNL_ALIGN(first->nlmsg_len);
    const uint32_t len = reinterpret_cast<const nlmsghdr*>(whole.data() + at)->nlmsg_len;
    // Every shorter length the header could claim: only what lies inside it is read (the
    // buffer is cut to the claimed length, so ASan sees any read past it).
    for (uint32_t cut = 0; cut <= len; cut++) {
        Bytes msg(whole.begin() + static_cast<std::ptrdiff_t>(at),
                  whole.begin() + static_cast<std::ptrdiff_t>(at + std::max<uint32_t>(cut, 16)));
        reinterpret_cast<nlmsghdr*>(msg.data())->nlmsg_len = cut;
        const std::string c = element_comment(reinterpret_cast<const nlmsghdr*>(msg.data()));
        EXPECT_TRUE(c.empty() || c == "berth:c9:eth1") << cut;
    }
    // The comment's type and length bytes garbled: another type is no comment, a length past
    // the attribute is read as nothing, a shorter one as that much of the comment.
    Bytes msg(whole.begin() + static_cast<std::ptrdiff_t>(at),
              whole.begin() + static_cast<std::ptrdiff_t>(at + len));
    const std::string tag = "berth:c9:eth1";
    auto pos = std::search(msg.begin(), msg.end(), tag.begin(), tag.end());
    ASSERT_NE(pos, msg.end());
    const size_t type_at = static_cast<size_t>(pos - msg.begin()) - 2;
    const auto garbled = [&](size_t i, uint8_t v) {
        Bytes g = msg;
        g[i] = v;
        return element_comment(reinterpret_cast<const nlmsghdr*>(g.data()));
    };
    EXPECT_EQ(garbled(type_at, 0), tag);
    EXPECT_EQ(garbled(type_at, 1), "");
    EXPECT_EQ(garbled(type_at, 0xff), "");
    EXPECT_EQ(garbled(type_at + 1, 0), "");
    EXPECT_EQ(garbled(type_at + 1, 1), "b");
    EXPECT_EQ(garbled(type_at + 1, 0x7f), "");
    EXPECT_EQ(garbled(type_at + 1, 0xff), "");
}

TEST(NftElementWire, BridgeFamilyAndErrors) {
    StaticTable t{"bridge", "berth-macspoof-n1", {}, {}, {}};
    t.sets = {{"checked", {"ifname"}, {}, false}};
    auto batch = encode_element_batch(t, "berth:c:e", {{"checked", "\"veth1\"", "", true}},
                                      ElementOp::kAdd, 1);
    ASSERT_TRUE(batch);
    EXPECT_EQ(decode(batch->bytes)[1].family, NFPROTO_BRIDGE);

    EXPECT_FALSE(encode_element_batch(t, "berth:c:e", {{"nosuchset", "\"veth1\"", "", true}},
                                      ElementOp::kAdd, 1));
    EXPECT_FALSE(
        encode_element_batch(t, "berth:c:e", {{"checked", "veth1", "", true}}, ElementOp::kAdd, 1));
    EXPECT_FALSE(encode_element_batch(t, std::string(128, 'a'), {{"checked", "\"v\"", "", true}},
                                      ElementOp::kAdd, 1));
    StaticTable bad = t;
    bad.family = "inet6";
    EXPECT_FALSE(
        encode_element_batch(bad, "x", {{"checked", "\"v\"", "", true}}, ElementOp::kAdd, 1));
}

}  // namespace
}  // namespace berth::net::nft
