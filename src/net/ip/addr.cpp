#include "net/ip/addr.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/strings.h"

namespace berth::net {

IpAddr IpAddr::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddr ip;
    ip.bytes_[0] = a;
    ip.bytes_[1] = b;
    ip.bytes_[2] = c;
    ip.bytes_[3] = d;
    return ip;
}

std::optional<IpAddr> IpAddr::from_bytes(const void* data, size_t size) {
    if (size != 4 && size != 16) return std::nullopt;
    IpAddr ip;
    ip.family_ = size == 4 ? AF_INET : AF_INET6;
    std::memcpy(ip.bytes_.data(), data, size);
    return ip;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
    std::string s(text);  // inet_pton wants a terminated string
    IpAddr ip;
    if (s.find(':') == std::string::npos) {
        if (::inet_pton(AF_INET, s.c_str(), ip.bytes_.data()) != 1) return std::nullopt;
        return ip;
    }
    ip.family_ = AF_INET6;
    if (::inet_pton(AF_INET6, s.c_str(), ip.bytes_.data()) != 1) return std::nullopt;
    return ip;
}

bool IpAddr::is_unspecified() const {
    for (size_t i = 0; i < size(); i++)
        if (bytes_[i] != 0) return false;
    return true;
}

std::string IpAddr::str() const {
    char buf[INET6_ADDRSTRLEN];
    if (!::inet_ntop(family_, bytes_.data(), buf, sizeof(buf))) return "?";
    return buf;
}

IpAddr IpAddr::next() const {
    IpAddr r = *this;
    for (size_t i = size(); i-- > 0;)
        if (++r.bytes_[i] != 0) break;
    return r;
}

IpAddr IpAddr::prev() const {
    IpAddr r = *this;
    for (size_t i = size(); i-- > 0;)
        if (r.bytes_[i]-- != 0) break;
    return r;
}

std::strong_ordering operator<=>(const IpAddr& a, const IpAddr& b) {
    if (a.family_ != b.family_)
        return a.is_v4() ? std::strong_ordering::less : std::strong_ordering::greater;
    int c = std::memcmp(a.bytes_.data(), b.bytes_.data(), a.size());
    return c < 0   ? std::strong_ordering::less
           : c > 0 ? std::strong_ordering::greater
                   : std::strong_ordering::equal;
}

Result<IpNet> IpNet::parse(std::string_view text, bool allow_bare) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos && !allow_bare)
        return Error(EINVAL) << "invalid CIDR address: " << text;
    auto addr = IpAddr::parse(text.substr(0, slash));
    if (!addr) return Error(EINVAL) << "invalid IP address: " << text;
    int max = static_cast<int>(addr->size() * 8);
    if (slash == std::string_view::npos) return IpNet(*addr, max);
    auto len = parse_number<int>(text.substr(slash + 1));
    if (!len || *len < 0 || *len > max) return Error(EINVAL) << "invalid CIDR address: " << text;
    return IpNet(*addr, *len);
}

namespace {
// Sets the host bits (set=true) or clears them.
IpAddr with_host_bits(const IpAddr& a, int prefix_len, bool set) {
    IpAddr r = a;
    int bits = static_cast<int>(a.size() * 8);
    for (int i = prefix_len; i < bits; i++) {
        uint8_t mask = static_cast<uint8_t>(0x80u >> (i % 8));
        if (set)
            r.data()[i / 8] |= mask;
        else
            r.data()[i / 8] &= static_cast<uint8_t>(~mask);
    }
    return r;
}
}  // namespace

IpAddr IpNet::network() const {
    return with_host_bits(addr_, prefix_len_, false);
}
IpAddr IpNet::last() const {
    return with_host_bits(addr_, prefix_len_, true);
}

bool IpNet::contains(const IpAddr& a) const {
    if (a.family() != family()) return false;
    return with_host_bits(a, prefix_len_, false) == network();
}

bool IpNet::overlaps(const IpNet& o) const {
    return contains(o.network()) || o.contains(network());
}

std::string IpNet::str() const {
    return addr_.str() + "/" + std::to_string(prefix_len_);
}

}  // namespace berth::net
