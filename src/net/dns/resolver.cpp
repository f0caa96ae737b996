#include "net/dns/resolver.h"

#include <sys/socket.h>

#include "base/strings.h"
#include "net/dns/message.h"

namespace berth::net::dns {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

Answer address_answer(const Address& a) {
    Answer out;
    out.type = a.family == AF_INET ? kTypeA : kTypeAaaa;
    out.ttl = kTtl;
    out.rdata.assign(a.bytes, a.bytes + a.size());
    return out;
}

}  // namespace

std::optional<Address> reverse_address(std::string_view name) {
    constexpr std::string_view v4 = ".in-addr.arpa", v6 = ".ip6.arpa";
    Address a;
    if (name.ends_with(v4)) {
        auto parts = split(name.substr(0, name.size() - v4.size()), '.');
        if (parts.size() != 4) return std::nullopt;
        for (size_t i = 0; i < 4; ++i) {
            auto n = parse_number<unsigned>(parts[i]);
            if (!n || *n > 255 || parts[i].size() > 3) return std::nullopt;
            a.bytes[3 - i] = uint8_t(*n);
        }
        a.family = AF_INET;
        return a;
    }
    if (name.ends_with(v6)) {
        auto parts = split(name.substr(0, name.size() - v6.size()), '.');
        if (parts.size() != 32) return std::nullopt;
        for (size_t i = 0; i < 32; ++i) {
            if (parts[i].size() != 1 || hex_digit(parts[i][0]) < 0) return std::nullopt;
            size_t nibble = 31 - i;  // the first label is the lowest nibble
            a.bytes[nibble / 2] |= uint8_t(hex_digit(parts[i][0]) << (nibble % 2 ? 0 : 4));
        }
        a.family = AF_INET6;
        return a;
    }
    return std::nullopt;
}

std::vector<uint8_t> error_reply(std::span<const uint8_t> query, uint8_t rcode) {
    auto msg = parse_message(query, false);
    if (!msg.ok()) return {};
    return build_reply(query, *msg, rcode, {}, false);
}

Decision resolve(const Records& records, std::span<const uint8_t> query, std::string_view domain) {
    Decision d;
    auto header = parse_header(query);
    if (!header.ok() || header->qr()) return d;  // too short, or a reply: never answer those
    auto parsed = parse_message(query, false);
    if (!parsed.ok()) {
        Message bare;
        bare.header = *header;
        d.action = Action::reply;
        d.reply = build_reply(query, bare, kFormErr, {}, false);
        return d;
    }
    const Message& msg = *parsed;
    d.action = Action::reply;
    if (msg.header.opcode() != 0) {
        d.reply = build_reply(query, msg, kNotImp, {}, false);
        return d;
    }
    if (msg.questions.size() != 1) {
        d.reply = build_reply(query, msg, kFormErr, {}, false);
        return d;
    }
    const Question& q = msg.questions.front();
    std::string name = lower(q.name);
    if (q.klass != kClassIn && q.klass != kTypeAny) {
        d.action = Action::forward;
        return d;
    }
    bool want_a = q.type == kTypeA || q.type == kTypeAny;
    bool want_aaaa = q.type == kTypeAaaa || q.type == kTypeAny;

    if (auto addr = reverse_address(name)) {
        const Entry* e = records.find_address(*addr);
        if (!e || e->names.empty()) {
            d.action = Action::forward;
            return d;
        }
        std::vector<Answer> answers;
        if (q.type == kTypePtr || q.type == kTypeAny) {
            auto target = encode_name(e->names.front() + "." + std::string(domain));
            if (target.ok()) answers.push_back({kTypePtr, kTtl, std::move(*target)});
        }
        d.reply = build_reply(query, msg, kNoError, answers, true);
        return d;
    }

    std::string base = name;
    bool in_domain = false;
    std::string suffix = "." + lower(domain);
    if (name == lower(domain)) {
        base.clear();
        in_domain = true;
    } else if (name.ends_with(suffix)) {
        base = name.substr(0, name.size() - suffix.size());
        in_domain = true;
    }
    const Entry* e = base.empty() ? nullptr : records.find_name(base);
    if (!e) {
        if (!in_domain) {
            d.action = Action::forward;
        } else {
            // The domain itself exists (NODATA); nothing else under it does.
            d.reply = build_reply(query, msg, base.empty() ? kNoError : kNxDomain, {}, true);
        }
        return d;
    }
    std::vector<Answer> answers;
    for (const auto& a : e->addresses) {
        if ((a.family == AF_INET && want_a) || (a.family == AF_INET6 && want_aaaa)) {
            answers.push_back(address_answer(a));
        }
    }
    // A name of ours with no record of that type: NOERROR and no answer (NODATA).
    d.reply = build_reply(query, msg, kNoError, answers, true);
    return d;
}

}  // namespace berth::net::dns
