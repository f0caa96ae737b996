// IPv4 and IPv6 addresses and prefixes as values: parse, print, compare, step. Shared by the
// netlink code (what the kernel takes) and IPAM (what it hands out).
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::net {

class IpAddr {
  public:
    IpAddr() = default;  // the IPv4 address 0.0.0.0
    static IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
    // From raw network-order bytes: 4 for IPv4, 16 for IPv6; nullopt for other sizes.
    static std::optional<IpAddr> from_bytes(const void* data, size_t size);
    // Dotted quad or RFC 4291 text; no prefix, no zone.
    static std::optional<IpAddr> parse(std::string_view text);

    int family() const { return family_; }
    bool is_v4() const { return family_ == AF_INET; }
    size_t size() const { return is_v4() ? 4 : 16; }
    const uint8_t* data() const { return bytes_.data(); }
    uint8_t* data() { return bytes_.data(); }
    bool is_unspecified() const;
    // Canonical text: 10.0.0.1, fd00::1 (inet_ntop's RFC 5952 form).
    std::string str() const;

    // The following address, or the previous one; wraps within the family.
    IpAddr next() const;
    IpAddr prev() const;

    friend bool operator==(const IpAddr&, const IpAddr&) = default;
    // IPv4 sorts before IPv6; within a family, numeric order.
    friend std::strong_ordering operator<=>(const IpAddr& a, const IpAddr& b);

  private:
    int family_ = AF_INET;
    std::array<uint8_t, 16> bytes_{};
};

// An address with a prefix length: an interface address (10.0.0.5/24) or a network (10.0.0.0/24).
class IpNet {
  public:
    IpNet() = default;
    IpNet(IpAddr addr, int prefix_len) : addr_(addr), prefix_len_(prefix_len) {}
    // "10.0.0.5/24"; a bare address reads as a host prefix (/32, /128) only if allow_bare.
    static Result<IpNet> parse(std::string_view text, bool allow_bare = false);

    const IpAddr& addr() const { return addr_; }
    int prefix_len() const { return prefix_len_; }
    int family() const { return addr_.family(); }
    int max_prefix_len() const { return static_cast<int>(addr_.size() * 8); }
    // The address with its host bits cleared, and with them all set.
    IpAddr network() const;
    IpAddr last() const;
    IpNet masked() const { return IpNet(network(), prefix_len_); }
    bool contains(const IpAddr& a) const;
    bool overlaps(const IpNet& o) const;
    std::string str() const;

    friend bool operator==(const IpNet&, const IpNet&) = default;

  private:
    IpAddr addr_;
    int prefix_len_ = 0;
};

}  // namespace berth::net
