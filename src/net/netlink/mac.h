// Ethernet (48-bit MAC) addresses as values, for link addresses, neighbour and FDB entries.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::net::netlink {

struct MacAddr {
    std::array<uint8_t, 6> bytes{};

    // "aa:bb:cc:dd:ee:ff" (either case; '-' also accepted as separator).
    static std::optional<MacAddr> parse(std::string_view text);
    // From raw bytes; nullopt unless size is 6.
    static std::optional<MacAddr> from_bytes(const void* data, size_t size);
    bool is_zero() const;
    std::string str() const;  // lower case, colon separated

    friend bool operator==(const MacAddr&, const MacAddr&) = default;
};

}  // namespace berth::net::netlink
