// A container's network settings, as `create` resolved them from --network, --ip, -p, --dns...:
// kept in <root>/containers/<id>/network.json beside its writable layer (the container row holds
// only the mode), read back at every start, by connect/disconnect, `port` and gc.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/network/ports.h"

namespace berth::engine::network {

struct NetworkAttachment {
    std::string network;  // its name in the store
    std::string ifname;   // eth0, eth1, ...
    std::string ip;       // --ip (first network only); empty: host-local picks
    std::string mac;      // --mac-address (first network only)
};

struct ContainerNet {
    std::string mode = "none";  // none | host | bridge (CNI networks) | container
    std::string container_id;   // mode container: whose namespace
    std::vector<NetworkAttachment> networks;
    std::vector<PortMapping> ports;
    std::vector<std::string> dns, dns_search, dns_options, add_hosts;
};

// --network: "bridge" or "" (the default network), "none", "host", "container:REF", or
// "NAME[,NAME...]". Fills mode, container_id (the REF as given) and the network names; EINVAL
// naming --network otherwise.
Result<ContainerNet> parse_network_mode(const std::string& value);

// The next free interface name: eth<N> with the lowest N not used by an attachment.
std::string next_ifname(const ContainerNet& net);

std::string container_net_path(const std::string& state_dir);  // <state_dir>/network.json
Result<void> save_container_net(const std::string& state_dir, const ContainerNet& net);
// A container made before networks existed has no file: its mode is `fallback_mode`.
Result<ContainerNet> load_container_net(const std::string& state_dir,
                                        const std::string& fallback_mode);

}  // namespace berth::engine::network
