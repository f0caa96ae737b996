#include "net/portmap/plugin.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstdio>

#include "base/file.h"
#include "base/strings.h"
#include "net/netlink/conntrack.h"
#include "net/nft/json_match.h"
#include "net/nft/nft.h"
#include "net/portmap/localnet.h"
#include "net/portmap/rules.h"

namespace berth::net::portmap {

using cni::CmdArgs;
using cni::Outcome;

namespace {

Outcome config_failure(const Error& e) {
    return Outcome::fail(
        e.errno_value() == ENOTSUP ? cni::kUnsupportedField : cni::kInvalidNetworkConfig, e);
}

nft::AttachmentId attachment_of(const CmdArgs& args) {
    return {args.container_id, args.ifname};
}

// True when the calling thread's network namespace tracks no connection at all: a ctnetlink
// dump walks the node-wide hash table (~20 ms with 256k buckets) even when it finds nothing.
bool conntrack_empty() {
    auto count = read_file("/proc/sys/net/netfilter/nf_conntrack_count");
    return count && trim(*count) == "0";
}

// Entries of UDP mappings made before (or for) the current rules would keep steering packets
// where the rules no longer do; TCP and SCTP connections end on their own. Only the families
// the container has an address of (both when unknown, as on a DEL without prevResult).
Result<void> clear_udp_conntrack(const PortmapConfig& c) {
    const bool any_udp = std::any_of(c.mappings.begin(), c.mappings.end(),
                                     [](const auto& m) { return m.protocol == Protocol::kUdp; });
    if (!any_udp || conntrack_empty()) return {};
    const bool unknown = !c.container_v4 && !c.container_v6;
    for (int family : {AF_INET, AF_INET6}) {
        if (!unknown && !(family == AF_INET ? c.container_v4 : c.container_v6)) continue;
        netlink::ConntrackFilter f;
        f.family = family;
        f.l4proto = IPPROTO_UDP;
        for (const PortMapping& m : c.mappings) {
            if (m.protocol != Protocol::kUdp || (m.host_ip && m.host_ip->family() != family))
                continue;
            netlink::ConntrackDestination d{m.host_port, std::nullopt};
            if (m.host_ip && !m.host_ip->is_unspecified()) d.addr = m.host_ip;
            f.destinations.push_back(d);
        }
        BERTH_TRY(netlink::delete_conntrack_entries(f));
    }
    return {};
}

bool maps_v4(const PortmapConfig& c) {
    return c.container_v4 && std::any_of(c.mappings.begin(), c.mappings.end(), [](const auto& m) {
               return !m.host_ip || m.host_ip->is_v4();
           });
}

}  // namespace

Outcome portmap_add(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    if (!c->has_prev_result)
        return Outcome::fail(cni::kInvalidNetworkConfig,
                             Error(EINVAL) << "portmap must be called as a chained plugin");
    const nft::OwnedTable table = portmap_table(c->network);
    const std::string tag = nft::attachment_tag(attachment_of(args));
    if (c->mappings.empty()) {
        // A repeated ADD without mappings leaves none of the earlier ones behind.
        auto r = nft::delete_rules(table, [&](std::string_view t) { return t == tag; });
        if (!r) return Outcome::fail(cni::kInternal, r.error());
        return Outcome::ok(c->prev_result.dump());
    }
    auto rules = portmap_rules(*c);
    if (!rules) return config_failure(rules.error());
    if (c->snat && maps_v4(*c)) {
        if (auto r = enable_route_localnet(c->container_v4->addr(), c->host_interfaces); !r)
            return Outcome::fail(cni::kInternal, r.error());
    }
    if (auto r = nft::replace_rules(table, tag, *rules); !r)
        return Outcome::fail(cni::kInternal, r.error());
    if (auto r = clear_udp_conntrack(*c); !r) return Outcome::fail(cni::kInternal, r.error());
    return Outcome::ok(c->prev_result.dump());
}

Outcome portmap_del(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    const std::string tag = nft::attachment_tag(attachment_of(args));
    auto r =
        nft::delete_rules(portmap_table(c->network), [&](std::string_view t) { return t == tag; });
    if (!r) return Outcome::fail(cni::kInternal, r.error());
    if (auto ct = clear_udp_conntrack(*c); !ct) return Outcome::fail(cni::kInternal, ct.error());
    return Outcome::ok();
}

Outcome portmap_check(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    if (!c->has_prev_result)
        return Outcome::fail(cni::kInvalidNetworkConfig,
                             Error(EINVAL) << "portmap must be called as a chained plugin");
    auto expected = portmap_rules(*c);
    if (!expected) return config_failure(expected.error());
    if (expected->empty()) return Outcome::ok();
    const nft::OwnedTable table = portmap_table(c->network);
    auto found = nft::rules_of(table, nft::attachment_tag(attachment_of(args)));
    if (!found) return Outcome::fail(cni::kInternal, found.error());
    if (found->size() != expected->size())
        return Outcome::fail(cni::kInternal, Error(ENOENT)
                                                 << "portmap: expected " << expected->size()
                                                 << " rules in " << table.ref() << ", found "
                                                 << found->size());
    for (const PortMapping& m : c->mappings) {
        for (const std::optional<IpNet>& container : {c->container_v4, c->container_v6}) {
            if (!container || (m.host_ip && m.host_ip->family() != container->family())) continue;
            const std::string addr = container->addr().str();
            const bool ok = std::any_of(found->begin(), found->end(), [&](const auto& e) {
                return e.chain == "hostports" && nft::json_has_number(e.expr, m.host_port) &&
                       nft::json_has_number(e.expr, m.container_port) &&
                       nft::json_has_string(e.expr, addr) &&
                       nft::json_has_string(e.expr, protocol_name(m.protocol));
            });
            if (!ok)
                return Outcome::fail(cni::kInternal, Error(ENOENT)
                                                         << "portmap: no rule for "
                                                         << protocol_name(m.protocol) << " port "
                                                         << m.host_port << " to " << addr << ":"
                                                         << m.container_port);
        }
    }
    return Outcome::ok();
}

Outcome portmap_gc(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    std::vector<std::string> keep;
    for (const nft::AttachmentId& id : c->valid_attachments)
        keep.push_back(nft::attachment_tag(id));
    auto r = nft::delete_rules(portmap_table(c->network), [&](std::string_view t) {
        return std::find(keep.begin(), keep.end(), t) == keep.end();
    });
    if (!r) return Outcome::fail(cni::kInternal, r.error());
    return Outcome::ok();
}

Outcome portmap_status(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    if (auto ctx = nft::Context::create(); !ctx)
        return Outcome::fail(cni::kPluginNotAvailable, ctx.error());
    return Outcome::ok();
}

cni::PluginFuncs portmap_funcs() {
    return {portmap_add, portmap_del, portmap_check, portmap_status, portmap_gc};
}

}  // namespace berth::net::portmap
