#include "net/portmap/plugin.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstdio>

#include "base/file.h"
#include "base/strings.h"
#include "net/netlink/conntrack.h"
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
    // No published port: nothing to do on the node (and nothing for DEL to find).
    if (c->mappings.empty()) return Outcome::ok(c->prev_result.dump());
    auto elements = portmap_elements(*c);
    if (!elements) return config_failure(elements.error());
    if (c->snat && maps_v4(*c)) {
        if (auto r = enable_route_localnet(c->container_v4->addr(), c->host_interfaces); !r)
            return Outcome::fail(cni::kInternal, r.error());
    }
    auto r = nft::add_elements(portmap_table(c->network), nft::attachment_tag(attachment_of(args)),
                               *elements);
    if (!r) {
        if (r.error().errno_value() == EEXIST)
            return Outcome::fail(cni::kInternal, Error(EEXIST)
                                                     << "portmap: a host port of this container is "
                                                        "already published to another address: "
                                                     << r.error().message());
        return Outcome::fail(cni::kInternal, r.error());
    }
    if (auto ct = clear_udp_conntrack(*c); !ct) return Outcome::fail(cni::kInternal, ct.error());
    return Outcome::ok(c->prev_result.dump());
}

Outcome portmap_del(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    // runtimeConfig says there were no mappings: ADD made nothing.
    if (c->mappings_given && c->mappings.empty()) return Outcome::ok();
    // The keys are known from runtimeConfig and prevResult; without them (a runtime that lost
    // them) the attachment's elements are found by their tag.
    std::vector<nft::Element> elements;
    bool known = c->mappings_given && (c->container_v4 || c->container_v6);
    if (known) {
        auto e = portmap_elements(*c);
        known = static_cast<bool>(e);
        if (e) elements = std::move(e).value();
    }
    auto r = nft::delete_elements(portmap_table(c->network),
                                  nft::attachment_tag(attachment_of(args)), elements, known);
    if (!r) return Outcome::fail(cni::kInternal, r.error());
    if (auto ct = clear_udp_conntrack(*c); !ct) return Outcome::fail(cni::kInternal, ct.error());
    // Best effort: without a holder the release waits at exit, as it always did.
    (void)nft::defer_socket_release();
    return Outcome::ok();
}

Outcome portmap_check(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    if (!c->has_prev_result)
        return Outcome::fail(cni::kInvalidNetworkConfig,
                             Error(EINVAL) << "portmap must be called as a chained plugin");
    auto expected = portmap_elements(*c);
    if (!expected) return config_failure(expected.error());
    if (expected->empty()) return Outcome::ok();
    auto ctx = nft::thread_context();
    if (!ctx) return Outcome::fail(cni::kInternal, ctx.error());
    auto r = nft::check_elements(**ctx, portmap_table(c->network),
                                 nft::attachment_tag(attachment_of(args)), *expected);
    if (!r) return Outcome::fail(cni::kInternal, r.error().wrap("portmap"));
    return Outcome::ok();
}

Outcome portmap_gc(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    auto ctx = nft::thread_context();
    if (!ctx) return Outcome::fail(cni::kInternal, ctx.error());
    auto r = nft::gc_elements(**ctx, portmap_table(c->network), nft::not_in(c->valid_attachments));
    if (!r) return Outcome::fail(cni::kInternal, r.error());
    return Outcome::ok();
}

Outcome portmap_status(const CmdArgs& args) {
    auto c = parse_config(args.config);
    if (!c) return config_failure(c.error());
    if (auto ctx = nft::thread_context(); !ctx)
        return Outcome::fail(cni::kPluginNotAvailable, ctx.error());
    return Outcome::ok();
}

cni::PluginFuncs portmap_funcs() {
    return {portmap_add, portmap_del, portmap_check, portmap_status, portmap_gc};
}

}  // namespace berth::net::portmap
