#include "net/bridge/naming.h"

#include <cstdio>
#include <initializer_list>
#include <string>

namespace berth::net::bridge {

namespace {

// FNV-1a over the parts (each followed by a NUL, so ("ab","c") != ("a","bc")), then a
// splitmix64 finalizer to spread the bits into the digits we keep.
uint64_t hash_parts(std::initializer_list<std::string_view> parts) {
    uint64_t h = 1469598103934665603ull;
    for (std::string_view p : parts) {
        for (unsigned char c : p) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0) * 1099511628211ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

std::string hex_digits(uint64_t h, int n) {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
    return std::string(buf + 16 - n, n);
}

}  // namespace

std::string host_veth_name(std::string_view container_id, std::string_view ifname) {
    return "veth" + hex_digits(hash_parts({container_id, ifname}), 11);
}

bool is_host_veth_name(std::string_view name) {
    if (name.size() != 15 || name.substr(0, 4) != "veth") return false;
    for (char c : name.substr(4))
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string vlan_gateway_port_name(std::string_view bridge, uint16_t vlan) {
    return "vgw" + hex_digits(hash_parts({"vlan-gateway", bridge, std::to_string(vlan)}), 12);
}

}  // namespace berth::net::bridge
