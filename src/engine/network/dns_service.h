// The engine's side of name resolution on user networks: the records each network's berth-dns
// answers from (<runroot>/dns/<network>.records, net/dns/records.h), and the responder's life.
// An entry is added after a container's ADD on a DNS-enabled network and removed when its
// attachment goes (release_network: stop, rm, the --rm exit command, gc); the responder is
// started with the first entry and exits by itself after the last. Every change happens under
// <runroot>/dns/<network>.lock, which the responder also takes before it exits (server.h).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/network/network_store.h"

namespace berth::engine::network {

inline constexpr const char kDnsDomain[] = "dns.berth";

// <runroot>/dns
std::string dns_dir(const std::string& runroot);

struct DnsMember {
    std::string id;
    std::vector<std::string> names;      // name first, then aliases (the short id among them)
    std::vector<std::string> addresses;  // without prefix length
};

// Adds (or replaces) the container's entry and makes sure a responder serves the network:
// SIGHUP to the one running, else `responder` (berth-dns's path) started detached, waited for
// until its sockets are bound.
Result<void> dns_add(const std::string& runroot, const NetworkInfo& network,
                     const DnsMember& member, const std::string& responder);
// Removes the container's entry (nothing to do when the network has no records file).
Result<void> dns_remove(const std::string& runroot, const std::string& network,
                        const std::string& id);
// A responder for a network that has entries but none running (it was killed): started again.
// Returns whether it was.
Result<bool> dns_revive(const std::string& runroot, const NetworkInfo& network,
                        const std::string& responder);
// The network is going (`network rm`): its records go and its responder is stopped.
Result<void> dns_stop(const std::string& runroot, const std::string& network);
// Entries of containers not in `live` go; responders left with no entries are stopped. One line
// per entry or responder removed.
Result<std::vector<std::string>> dns_gc(const std::string& runroot,
                                        const std::set<std::string>& live);

// The addresses a container on `network` gets as nameservers: the IPv4 gateways (the IPv6 ones
// on an IPv6-only network); none when the network has no DNS.
std::vector<std::string> dns_servers_of(const NetworkInfo& network);

// The search domains of a resolv.conf ("search" or "domain", the last one wins).
std::vector<std::string> host_search_domains(const std::string& resolv_text);

}  // namespace berth::engine::network
