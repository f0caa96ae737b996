// Published ports: docker's `-p [hostIP:][hostPort:]containerPort[/proto]` with ranges, `-P`
// for the image's ExposedPorts, and what `berth port` prints. A missing host port is chosen at
// create time (a free port the kernel hands out for that protocol), as podman does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace berth::engine::network {

struct PortMapping {
    std::string host_ip;  // empty: every address
    uint16_t host_port = 0;
    uint16_t container_port = 0;
    std::string protocol = "tcp";  // tcp | udp | sctp
};

// One -p value; ranges expand to one mapping per port (the host range must have the same length,
// or be a single port only when the container range is one port). Host port 0: pick later.
Result<std::vector<PortMapping>> parse_publish(const std::string& spec);
// The image's "80/tcp" entries as mappings with host port 0 on every address.
Result<std::vector<PortMapping>> exposed_ports(const std::vector<std::string>& exposed);
// Gives each mapping with host port 0 a free port of its protocol (bound and released).
Result<void> assign_host_ports(std::vector<PortMapping>& mappings);

// The CNI portMappings capability argument.
nlohmann::json port_mappings_json(const std::vector<PortMapping>& mappings);
std::vector<PortMapping> mappings_from_json(const nlohmann::json& j);

// "80/tcp -> 0.0.0.0:8080", one per mapping, in order.
std::string format_port(const PortMapping& m);

}  // namespace berth::engine::network
