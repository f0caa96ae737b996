// The answers berth-dns gives from its records, and what it leaves to the upstream servers:
// A/AAAA for a container's name, aliases and short id, bare or under the search domain
// (dns.berth), PTR for the containers' addresses, NXDOMAIN for other names under the domain;
// everything else is forwarded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/dns/records.h"

namespace berth::net::dns {

inline constexpr const char kSearchDomain[] = "dns.berth";
inline constexpr uint32_t kTtl = 10;  // containers come and go: short, like aardvark-dns's

enum class Action {
    reply,    // send `reply`
    forward,  // send the query to the upstream servers
    drop,     // not a query: say nothing
};

struct Decision {
    Action action = Action::drop;
    std::vector<uint8_t> reply;
};

// What to do with one datagram sent to the responder.
Decision resolve(const Records& records, std::span<const uint8_t> query,
                 std::string_view domain = kSearchDomain);

// The address of a reverse name ("4.3.2.1.in-addr.arpa", nibbles under ip6.arpa), if it is one.
std::optional<Address> reverse_address(std::string_view lower_name);

// A reply to `query` with only a header and its question, e.g. SERVFAIL when no upstream
// answered; empty when the query cannot be parsed.
std::vector<uint8_t> error_reply(std::span<const uint8_t> query, uint8_t rcode);

}  // namespace berth::net::dns
