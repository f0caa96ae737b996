// Set elements as raw nf_tables netlink messages: the per-attachment path (ADD and DEL add and
// delete elements of sets that already exist) needs no parser, no cache and none of
// libnftables' libraries. One NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM per set, each with
// NLM_F_ACK, inside one NFNL_MSG_BATCH_BEGIN/END batch: one transaction, as `nft -f` makes.
//
// Element text (element_table.h) is read back per the set's declared types, the way nft encodes
// them: ipv4_addr (4 bytes), ipv6_addr (16), inet_proto (1: tcp, udp, sctp or a number),
// inet_service (2, big-endian), ifname (16, a quoted name NUL-padded), ether_addr (6). In a
// concatenation each component is padded to 4 bytes. An interval set's element ("10.0.0.0/16")
// is its start and its end (the first address after it, flagged NFT_SET_ELEM_INTERVAL_END), after
// an interval end at address zero as nft sends into a fresh set; re-adding an identical interval
// is a no-op for the kernel. A tagged element carries the tag as nft's comment user data.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/nft/element_table.h"

struct nlmsghdr;

namespace berth::net::nft {

// The bytes of `text` for a key or value of `types` (one type: that type's size; several: a
// concatenation). EINVAL naming the component that does not parse.
Result<std::vector<uint8_t>> encode_data(const std::vector<std::string>& types,
                                         std::string_view text);

enum class ElementOp { kAdd, kDelete, kExpire };

// How long an expired element lives on: the least the kernel takes (it rounds up to one jiffy).
inline constexpr uint64_t kExpireAfterMs = 1;

// One transaction ready to send. The set messages have sequence numbers first_seq + 1 ...
// first_seq + sets.size() (the batch's BEGIN is first_seq, its END the one after the last set),
// and each asks for an acknowledgement.
struct WireBatch {
    std::vector<uint8_t> bytes;
    uint32_t first_seq = 0;
    std::vector<std::string> sets;  // per acknowledged message, for error messages
};

// kAdd: every element (tagged ones with the tag as comment), NLM_F_CREATE without NLM_F_EXCL so
// an identical element is no error. kDelete: the keys of the tagged elements only (untagged ones
// are shared: see element_table.h). kExpire: the tagged elements again, key and value, with a
// timeout of kExpireAfterMs and neither NLM_F_CREATE nor NLM_F_EXCL, which on a set with the
// timeout flag updates an existing element's timeout (Linux 6.12+). EINVAL for an unknown set or
// an element that does not parse; an empty batch (no set message) when nothing is left to send.
Result<WireBatch> encode_element_batch(const StaticTable& table, std::string_view tag,
                                       const std::vector<Element>& elements, ElementOp op,
                                       uint32_t first_seq);

// One NFT_MSG_GETSETELEM per tagged element of `elements` (not a batch: each is answered on its
// own), with sequence numbers first_seq, first_seq + 1, ... and NLM_F_ACK: a found element's
// reply comes before its acknowledgement, a missing one is an ENOENT acknowledgement. `index`
// maps each message to its element in `elements`.
struct WireQuery {
    std::vector<uint8_t> bytes;
    uint32_t first_seq = 0;
    std::vector<size_t> index;
};
Result<WireQuery> encode_element_queries(const StaticTable& table,
                                         std::span<const Element> elements, uint32_t first_seq);

// The comment of the (first) element of a NFT_MSG_NEWSETELEM message, "" when it has none.
std::string element_comment(const nlmsghdr* nlh);

// NFPROTO_* of a table family name ("inet", "bridge", "ip", "ip6", "arp", "netdev").
Result<uint8_t> family_number(std::string_view family);

}  // namespace berth::net::nft
