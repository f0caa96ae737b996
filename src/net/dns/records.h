// What a network's responder knows: its containers (records file) and the servers it forwards
// to. The engine writes <runroot>/dns/<network>.records (atomically, under the network's DNS
// lock) and berth-dns reads it; one line per container:
//
//   <id> TAB <name>[,<alias>...] TAB <address>[,<address>...]
//
// Names are container names and aliases (the 12-digit short id among them); addresses are IPv4
// or IPv6 without prefix. Lines starting with '#' and empty lines are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::net::dns {

struct Address {
    int family = 0;  // AF_INET or AF_INET6
    uint8_t bytes[16] = {};

    size_t size() const;  // 4 or 16
    std::string str() const;
    bool operator==(const Address& o) const;
};

std::optional<Address> parse_address(std::string_view text);

struct Entry {
    std::string id;
    std::vector<std::string> names;  // the first is the container's name
    std::vector<Address> addresses;
};

struct Records {
    std::vector<Entry> entries;

    // The entry with that name or alias (case-insensitive), or null.
    const Entry* find_name(std::string_view name) const;
    const Entry* find_address(const Address& a) const;
    const Entry* find_id(std::string_view id) const;
    // Replaces the entry with the same id, or appends. Removal returns whether it was there.
    void put(Entry e);
    bool remove(std::string_view id);
};

// EINVAL naming the line for a malformed one.
Result<Records> parse_records(std::string_view text);
std::string format_records(const Records& r);

// The nameservers of a resolv.conf, in order (at most 3, like the resolver library).
std::vector<Address> resolv_conf_nameservers(std::string_view text);

}  // namespace berth::net::dns
