#include "net/portmap/rules.h"

#include <cerrno>

#include "net/nft/script.h"

namespace berth::net::portmap {

namespace {
constexpr const char* kHostports = "hostports";
constexpr const char* kPostrouting = "postrouting";

std::string dnat_rule(const PortMapping& m, const IpNet& container, bool snat) {
    const bool v4 = container.addr().is_v4();
    const std::string proto = v4 ? "ip" : "ip6";
    std::string r = std::string("meta nfproto ") + (v4 ? "ipv4" : "ipv6");
    if (m.host_ip && !m.host_ip->is_unspecified()) r += " " + proto + " daddr " + m.host_ip->str();
    // Without SNAT a connection from 127.0.0.1 cannot work: its source is not routable.
    if (v4 && !snat) r += " ip daddr != 127.0.0.0/8";
    r += std::string(" ") + protocol_name(m.protocol) + " dport " + std::to_string(m.host_port);
    const std::string to = v4 ? container.addr().str() : "[" + container.addr().str() + "]";
    r += " dnat " + proto + " to " + to + ":" + std::to_string(m.container_port);
    return r;
}

std::string masquerade_rule(const IpNet& container) {
    if (container.addr().is_v4())
        return "ip daddr " + container.addr().str() + " ip saddr { 127.0.0.0/8, " +
               container.masked().str() + " } ct status dnat masquerade";
    // IPv6 has no route_localnet: ::1 cannot be forwarded, so only the subnet needs it.
    return "ip6 daddr " + container.addr().str() + " ip6 saddr " + container.masked().str() +
           " ct status dnat masquerade";
}
}  // namespace

nft::OwnedTable portmap_table(std::string_view network) {
    const std::string jump = std::string("fib daddr type local jump ") + kHostports;
    return nft::OwnedTable{
        "inet",
        nft::table_name("berth-pm-", network),
        {
            {"prerouting", "type nat hook prerouting priority dstnat; policy accept;"},
            {"output", "type nat hook output priority -100; policy accept;"},
            {kHostports, ""},
            {kPostrouting, "type nat hook postrouting priority srcnat; policy accept;"},
        },
        {{"prerouting", jump}, {"output", jump}}};
}

Result<std::vector<nft::RuleText>> portmap_rules(const PortmapConfig& c) {
    std::vector<nft::RuleText> out;
    if (c.mappings.empty()) return out;
    if (!c.container_v4 && !c.container_v6)
        return Error(EINVAL) << "prevResult has no container IP address to map ports to";
    for (const std::optional<IpNet>& container : {c.container_v4, c.container_v6}) {
        if (!container) continue;
        bool used = false;
        for (const PortMapping& m : c.mappings) {
            if (m.host_ip && m.host_ip->family() != container->family()) continue;
            out.push_back({kHostports, dnat_rule(m, *container, c.snat)});
            used = true;
        }
        if (used && c.snat) out.push_back({kPostrouting, masquerade_rule(*container)});
    }
    return out;
}

}  // namespace berth::net::portmap
