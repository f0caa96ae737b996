// berth-portmap's configuration: the reference portmap plugin's fields (snat, markMasqBit,
// externalSetMarkChain, conditionsV4/V6), runtimeConfig.portMappings, the container addresses
// from prevResult, and GC's cni.dev/valid-attachments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/cni/types.h"
#include "net/ip/addr.h"
#include "net/nft/attachment.h"

namespace berth::net::portmap {

using cni::Json;

enum class Protocol { kTcp, kUdp, kSctp };
const char* protocol_name(Protocol p);  // "tcp", "udp", "sctp"

struct PortMapping {
    uint16_t host_port = 0;
    uint16_t container_port = 0;
    Protocol protocol = Protocol::kTcp;
    // Unset: every local address of both families. Set: only its family; an unspecified
    // address (0.0.0.0, ::) means every local address of that family.
    std::optional<IpAddr> host_ip;
};

struct PortmapConfig {
    std::string network;  // "name"
    std::string cni_version;
    bool snat = true;
    // Accepted for compatibility and unused: berth tells hairpin and localhost connections apart
    // by conntrack state (ct status dnat) and addresses, not by a packet mark.
    std::optional<int> mark_masq_bit;
    std::string external_set_mark_chain;
    std::vector<PortMapping> mappings;
    // runtimeConfig.portMappings was present (possibly empty): DEL then knows what ADD made
    // without looking at the ruleset.
    bool mappings_given = false;
    // The container's addresses (with their prefix) from prevResult: the first IPv4 and the
    // first IPv6, preferring addresses on an interface inside the container (a "sandbox").
    std::optional<IpNet> container_v4;
    std::optional<IpNet> container_v6;
    // Names of interfaces of prevResult outside the container (the bridge): a fallback for where
    // route_localnet goes when no route to the container is found.
    std::vector<std::string> host_interfaces;
    bool has_prev_result = false;
    Json prev_result;
    std::vector<nft::AttachmentId> valid_attachments;  // GC
};

// Errors: EINVAL naming the field (kInvalidNetworkConfig), ENOTSUP for conditionsV4/V6
// (kUnsupportedField).
Result<PortmapConfig> parse_config(const Json& config);

}  // namespace berth::net::portmap
