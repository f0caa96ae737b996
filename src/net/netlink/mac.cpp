#include "net/netlink/mac.h"

#include <cstdio>
#include <cstring>

namespace berth::net::netlink {

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
    // Six two-digit groups with five separators.
    if (text.size() != 17) return std::nullopt;
    MacAddr mac;
    for (size_t i = 0; i < 6; i++) {
        size_t at = i * 3;
        int hi = hex_value(text[at]);
        int lo = hex_value(text[at + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && text[at + 2] != ':' && text[at + 2] != '-') return std::nullopt;
        mac.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return mac;
}

std::optional<MacAddr> MacAddr::from_bytes(const void* data, size_t size) {
    if (size != 6) return std::nullopt;
    MacAddr mac;
    std::memcpy(mac.bytes.data(), data, 6);
    return mac;
}

bool MacAddr::is_zero() const {
    for (uint8_t b : bytes)
        if (b) return false;
    return true;
}

std::string MacAddr::str() const {
    char out[18];
    std::snprintf(out, sizeof(out), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return out;
}

}  // namespace berth::net::netlink
