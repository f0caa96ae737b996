#include "net/portmap/rules.h"

#include <cerrno>

#include "net/nft/script.h"

namespace berth::net::portmap {

namespace {

std::string addr_port(const IpAddr& a, uint16_t port) {
    return a.str() + " . " + std::to_string(port);
}

}  // namespace

nft::StaticTable portmap_table(std::string_view network) {
    nft::StaticTable t{"inet", nft::table_name("berth-pm-", network), {}, {}, {}};
    const std::vector<std::string> value4 = {"ipv4_addr", "inet_service"};
    const std::vector<std::string> value6 = {"ipv6_addr", "inet_service"};
    t.sets = {
        {"hp4_any", {"inet_proto", "inet_service"}, value4, false},
        {"hp4_ip", {"ipv4_addr", "inet_proto", "inet_service"}, value4, false},
        {"hp6_any", {"inet_proto", "inet_service"}, value6, false},
        {"hp6_ip", {"ipv6_addr", "inet_proto", "inet_service"}, value6, false},
        {"own4",
         {"ipv4_addr", "inet_proto", "inet_service", "ipv4_addr", "inet_service"},
         {},
         false},
        {"own6",
         {"ipv6_addr", "inet_proto", "inet_service", "ipv6_addr", "inet_service"},
         {},
         false},
        {"subnets4", {"ipv4_addr"}, {}, true},
        {"subnets6", {"ipv6_addr"}, {}, true},
    };
    t.chains = {
        {"prerouting", "type nat hook prerouting priority dstnat; policy accept;"},
        {"output", "type nat hook output priority -100; policy accept;"},
        {"hostports", ""},
        {"postrouting", "type nat hook postrouting priority srcnat; policy accept;"},
    };
    const std::string jump = "fib daddr type local jump hostports";
    t.rules = {
        {"prerouting", jump},
        {"output", jump},
        {"hostports", "dnat ip to ip daddr . meta l4proto . th dport map @hp4_ip"},
        {"hostports", "dnat ip to meta l4proto . th dport map @hp4_any"},
        {"hostports", "dnat ip6 to ip6 daddr . meta l4proto . th dport map @hp6_ip"},
        {"hostports", "dnat ip6 to meta l4proto . th dport map @hp6_any"},
        {"postrouting", "ct status dnat ip daddr @subnets4 ip saddr 127.0.0.0/8 masquerade"},
        {"postrouting", "ct status dnat ip daddr @subnets4 ip saddr @subnets4 masquerade"},
        // IPv6 has no route_localnet: ::1 cannot be forwarded, so only the subnet needs it.
        {"postrouting", "ct status dnat ip6 daddr @subnets6 ip6 saddr @subnets6 masquerade"},
    };
    return t;
}

Result<std::vector<nft::Element>> portmap_elements(const PortmapConfig& c) {
    std::vector<nft::Element> maps, owners, subnets;
    if (c.mappings.empty()) return maps;
    if (!c.container_v4 && !c.container_v6)
        return Error(EINVAL) << "prevResult has no container IP address to map ports to";
    for (const std::optional<IpNet>& container : {c.container_v4, c.container_v6}) {
        if (!container) continue;
        const bool v4 = container->addr().is_v4();
        const IpAddr any = v4 ? IpAddr() : *IpAddr::parse("::");
        bool used = false;
        for (const PortMapping& m : c.mappings) {
            if (m.host_ip && m.host_ip->family() != container->family()) continue;
            const bool any_addr = !m.host_ip || m.host_ip->is_unspecified();
            const std::string proto_port =
                std::string(protocol_name(m.protocol)) + " . " + std::to_string(m.host_port);
            const std::string to = addr_port(container->addr(), m.container_port);
            const std::string host = any_addr ? any.str() : m.host_ip->str();
            maps.push_back({std::string(v4 ? "hp4" : "hp6") + (any_addr ? "_any" : "_ip"),
                            any_addr ? proto_port : host + " . " + proto_port, to, true});
            owners.push_back(
                {v4 ? "own4" : "own6", host + " . " + proto_port + " . " + to, {}, true});
            used = true;
        }
        if (used && c.snat)
            subnets.push_back({v4 ? "subnets4" : "subnets6", container->masked().str(), {}, false});
    }
    maps.insert(maps.end(), owners.begin(), owners.end());
    maps.insert(maps.end(), subnets.begin(), subnets.end());
    return maps;
}

}  // namespace berth::net::portmap
