#include "net/dns/message.h"

namespace berth::net::dns {
namespace {

constexpr size_t kMaxName = 255;  // octets in wire form, length bytes included

uint16_t get16(std::span<const uint8_t> m, size_t at) {
    return uint16_t(m[at] << 8 | m[at + 1]);
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
    put16(out, uint16_t(v >> 16));
    put16(out, uint16_t(v));
}

Error bad(const char* what) {
    return Error(EBADMSG) << "DNS message: " << what;
}

}  // namespace

Result<Header> parse_header(std::span<const uint8_t> m) {
    if (m.size() < kHeaderSize) return bad("shorter than its header");
    Header h;
    h.id = get16(m, 0);
    h.flags = get16(m, 2);
    h.qdcount = get16(m, 4);
    h.ancount = get16(m, 6);
    h.nscount = get16(m, 8);
    h.arcount = get16(m, 10);
    return h;
}

Result<std::string> read_name(std::span<const uint8_t> m, size_t& offset) {
    std::string out;
    size_t at = offset;
    size_t wire_size = 1;  // the root label
    bool jumped = false;
    for (;;) {
        if (at >= m.size()) return bad("name runs past the end");
        uint8_t len = m[at];
        if ((len & 0xc0) == 0xc0) {
            if (at + 1 >= m.size()) return bad("pointer runs past the end");
            size_t target = size_t(len & 0x3f) << 8 | m[at + 1];
            // Backwards only: every jump lowers the position, so no pointer chain can loop.
            if (target >= at) return bad("compression pointer does not point backwards");
            if (!jumped) offset = at + 2;
            jumped = true;
            at = target;
            continue;
        }
        if (len & 0xc0) return bad("reserved label type");
        if (len == 0) {
            if (!jumped) offset = at + 1;
            return out;
        }
        if (at + 1 + len > m.size()) return bad("label runs past the end");
        wire_size += 1 + len;
        if (wire_size > kMaxName) return bad("name longer than 255 octets");
        if (!out.empty()) out += '.';
        out.append(reinterpret_cast<const char*>(&m[at + 1]), len);
        at += 1 + len;
    }
}

// The name at `offset` as uncompressed wire labels (read_name's walk, bytes kept as sent).
Result<std::vector<uint8_t>> read_wire_name(std::span<const uint8_t> m, size_t& offset) {
    size_t at = offset;
    BERTH_TRY(read_name(m, at));  // every check, once
    std::vector<uint8_t> out;
    at = offset;
    for (;;) {
        uint8_t len = m[at];
        if ((len & 0xc0) == 0xc0) {
            at = size_t(len & 0x3f) << 8 | m[at + 1];
            continue;
        }
        out.push_back(len);
        if (len == 0) break;
        out.insert(out.end(), m.begin() + long(at) + 1, m.begin() + long(at) + 1 + len);
        at += 1 + len;
    }
    BERTH_TRY(read_name(m, offset));
    return out;
}

Result<Message> parse_message(std::span<const uint8_t> m, bool with_records) {
    Message msg;
    msg.header = BERTH_TRY(parse_header(m));
    size_t at = kHeaderSize;
    // A question takes at least 5 bytes and a record 11: counts past that cannot be honest.
    if (size_t(msg.header.qdcount) * 5 > m.size() - at) return bad("more questions than bytes");
    for (uint16_t i = 0; i < msg.header.qdcount; ++i) {
        Question q;
        q.name = BERTH_TRY(read_name(m, at));
        if (at + 4 > m.size()) return bad("question runs past the end");
        q.type = get16(m, at);
        q.klass = get16(m, at + 2);
        at += 4;
        msg.questions.push_back(std::move(q));
    }
    msg.questions_end = at;
    if (!with_records) return msg;
    size_t count = size_t(msg.header.ancount) + msg.header.nscount + msg.header.arcount;
    if (count * 11 > m.size() - at) return bad("more records than bytes");
    for (size_t i = 0; i < count; ++i) {
        ResourceRecord rr;
        rr.name = BERTH_TRY(read_name(m, at));
        if (at + 10 > m.size()) return bad("record runs past the end");
        rr.type = get16(m, at);
        rr.klass = get16(m, at + 2);
        rr.ttl = uint32_t(get16(m, at + 4)) << 16 | get16(m, at + 6);
        rr.rdata_size = get16(m, at + 8);
        at += 10;
        if (at + rr.rdata_size > m.size()) return bad("record data runs past the end");
        rr.rdata_offset = at;
        at += rr.rdata_size;
        msg.records.push_back(std::move(rr));
    }
    return msg;
}

std::string lower(std::string_view name) {
    std::string out(name);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    }
    return out;
}

Result<std::vector<uint8_t>> encode_name(std::string_view name) {
    std::vector<uint8_t> out;
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    while (!name.empty()) {
        size_t dot = name.find('.');
        std::string_view label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) {
            return Error(EINVAL) << "DNS name `" << name << "`: bad label length";
        }
        out.push_back(uint8_t(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    }
    out.push_back(0);
    if (out.size() > kMaxName) return Error(EINVAL) << "DNS name longer than 255 octets";
    return out;
}

std::vector<uint8_t> build_reply(std::span<const uint8_t> bytes, const Message& query,
                                 uint8_t rcode, const std::vector<Answer>& answers,
                                 bool authoritative) {
    std::vector<uint8_t> out;
    const Header& q = query.header;
    bool has_question = !query.questions.empty() && query.questions_end <= bytes.size();
    uint16_t flags = 0x8000 | (q.flags & 0x7800) | (q.flags & 0x0100) | 0x0080 | (rcode & 0xf);
    if (authoritative) flags |= 0x0400;
    put16(out, q.id);
    put16(out, flags);
    put16(out, has_question ? 1 : 0);
    put16(out, has_question ? uint16_t(answers.size()) : 0);
    put16(out, 0);
    put16(out, 0);
    if (!has_question) return out;
    // The first question only (the engine answers queries with exactly one), its name without
    // compression: a pointer of the query's could point into the header, which differs here.
    size_t at = kHeaderSize;
    auto name = read_wire_name(bytes, at);
    if (!name.ok() || at + 4 > bytes.size()) return out;
    out.insert(out.end(), name->begin(), name->end());
    out.insert(out.end(), bytes.begin() + long(at), bytes.begin() + long(at) + 4);
    for (const auto& a : answers) {
        put16(out, 0xc000 | kHeaderSize);
        put16(out, a.type);
        put16(out, kClassIn);
        put32(out, a.ttl);
        put16(out, uint16_t(a.rdata.size()));
        out.insert(out.end(), a.rdata.begin(), a.rdata.end());
    }
    return out;
}

}  // namespace berth::net::dns
