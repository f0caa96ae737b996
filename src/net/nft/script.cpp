#include "net/nft/script.h"

#include <cctype>
#include <cerrno>

namespace berth::net::nft {

Result<std::string> quote(std::string_view s) {
    if (s.empty()) return Error(EINVAL) << "empty name";
    if (s.size() > 128) return Error(EINVAL) << "name longer than 128 bytes";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return Error(EINVAL) << "name has a character nft cannot quote (byte " << unsigned(c)
                                 << ")";
    }
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    out += s;
    out += '"';
    return out;
}

Result<std::string> identifier(std::string_view s) {
    if (s.empty() || s.size() > 64 || !std::isalpha(static_cast<unsigned char>(s[0])))
        return Error(EINVAL) << "invalid nft identifier \"" << s << "\"";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (!std::isalnum(c) && c != '_' && c != '.' && c != '/' && c != '-')
            return Error(EINVAL) << "invalid nft identifier \"" << s << "\"";
    }
    return std::string(s);
}

uint64_t hash64(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string hex16(uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; i--, v >>= 4) out[i] = digits[v & 0xf];
    return out;
}

namespace {
bool plain_char(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || c == '_' || c == '-';
}
}  // namespace

std::string table_name(std::string_view prefix, std::string_view network) {
    bool plain = !network.empty() && network.size() <= 40;
    for (char c : network) plain = plain && plain_char(c);
    std::string out(prefix);
    if (plain) return out.append(network);
    size_t kept = 0;
    for (char c : network) {
        if (kept++ == 24) break;
        out += plain_char(c) ? c : '_';
    }
    return out.append(".").append(hex16(hash64(network)));
}

Result<std::string> quote_ifname(std::string_view name) {
    if (name.empty() || name.size() > 15 || name == "." || name == "..")
        return Error(EINVAL) << "invalid interface name \"" << name << "\"";
    for (char c : name)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)))
            return Error(EINVAL) << "invalid interface name \"" << name << "\"";
    auto q = quote(name);
    if (!q) return Error(EINVAL) << "invalid interface name: " << q.error().message();
    return q;
}

Result<std::string> normalize_mac(std::string_view mac) {
    auto bad = [&] { return Error(EINVAL) << "invalid MAC address \"" << mac << "\""; };
    if (mac.size() != 17) return bad();
    std::string out(mac);
    for (size_t i = 0; i < out.size(); i++) {
        const auto c = static_cast<unsigned char>(out[i]);
        if (i % 3 == 2) {
            if (c != ':') return bad();
        } else {
            if (!std::isxdigit(c)) return bad();
            out[i] = static_cast<char>(std::tolower(c));
        }
    }
    return out;
}

}  // namespace berth::net::nft
