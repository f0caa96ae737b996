// DNS messages (RFC 1035) as berth-dns reads and writes them: the header, the question and the
// resource records, parsed with every length and offset checked against the message's end, since
// every byte comes from a container or an upstream server. Compression pointers must point
// backwards (so they cannot loop) and a name is at most 255 octets, as the RFC says.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::net::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kTypeAny = 255;
inline constexpr uint16_t kClassIn = 1;

enum Rcode : uint8_t {
    kNoError = 0,
    kFormErr = 1,
    kServFail = 2,
    kNxDomain = 3,
    kNotImp = 4,
    kRefused = 5,
};

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxUdpReply = 512;  // without EDNS (RFC 1035 4.2.1)

struct Header {
    uint16_t id = 0;
    uint16_t flags = 0;
    uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

    bool qr() const { return flags & 0x8000; }
    uint8_t opcode() const { return (flags >> 11) & 0xf; }
    bool rd() const { return flags & 0x0100; }
    bool tc() const { return flags & 0x0200; }
    uint8_t rcode() const { return flags & 0xf; }
};

struct Question {
    std::string name;  // dotted, without the final dot ("" for the root), case as sent
    uint16_t type = 0;
    uint16_t klass = 0;
};

struct ResourceRecord {
    std::string name;
    uint16_t type = 0, klass = 0;
    uint32_t ttl = 0;
    size_t rdata_offset = 0;  // into the message
    uint16_t rdata_size = 0;
};

struct Message {
    Header header;
    std::vector<Question> questions;
    size_t questions_end = kHeaderSize;   // where the question section ends
    std::vector<ResourceRecord> records;  // answer, authority, additional, in order
};

// The header only: EBADMSG when shorter than 12 bytes.
Result<Header> parse_header(std::span<const uint8_t> msg);
// The name at `offset` (advanced past it, past the first pointer when compressed). EBADMSG on
// truncation, a forward or self pointer, a reserved label type or a name over 255 octets.
Result<std::string> read_name(std::span<const uint8_t> msg, size_t& offset);
// Header, questions and (when `with_records`) every record; EBADMSG on any overrun. Counts are
// bounded by what the message can hold, so a header claiming 65535 questions costs nothing.
Result<Message> parse_message(std::span<const uint8_t> msg, bool with_records = true);

// Lower case ASCII (DNS names compare case-insensitively, RFC 4343).
std::string lower(std::string_view name);

// The wire form of a dotted name (without compression); EINVAL for an empty label or a label over
// 63 octets or a name over 255.
Result<std::vector<uint8_t>> encode_name(std::string_view name);

struct Answer {
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::vector<uint8_t> rdata;
};

// A reply to `query` (`bytes`, parsed as `query`, with one question): its id, opcode and RD, QR
// and RA set, AA when `authoritative`, the question's bytes as sent (case kept, for clients that
// randomize it), then `answers` under the question's name (a pointer to offset 12). A query
// without a question gives a header-only reply.
std::vector<uint8_t> build_reply(std::span<const uint8_t> bytes, const Message& query,
                                 uint8_t rcode, const std::vector<Answer>& answers,
                                 bool authoritative);

}  // namespace berth::net::dns
