#include "net/cni/loopback.h"

#include <net/if.h>

#include "net/netlink/link.h"
#include "net/netlink/netns.h"

namespace berth::net::cni {

namespace {

// A netlink socket in the namespace at `path`, and lo's index there.
struct LoopbackHandle {
    netlink::NetlinkSocket nl;
    netlink::LinkInfo lo;
};

Result<LoopbackHandle> open_loopback(const std::string& netns_path) {
    UniqueFd ns = BERTH_TRY(open_netns(netns_path));
    auto nl = BERTH_TRY_CTX(netlink::NetlinkSocket::open_in(ns),
                            "enter network namespace `" + netns_path + "`");
    auto lo = BERTH_TRY(netlink::get_link(nl, "lo"));
    return LoopbackHandle{std::move(nl), std::move(lo)};
}

// The netns is gone (ip netns del, a dead pid) or the path no longer names a namespace.
bool namespace_gone(const Error& e) {
    return e.errno_value() == ENOENT || e.errno_value() == EINVAL;
}

// The result a lone loopback reports, in the shape of args.cni_version.
Json lone_result(const CmdArgs& args) {
    CniResult r;
    r.interfaces.push_back({.name = "lo", .mac = "00:00:00:00:00:00", .sandbox = args.netns});
    r.ips.push_back({IpNet::parse("127.0.0.1/8").value(), std::nullopt, 0});
    r.ips.push_back({IpNet::parse("::1/128").value(), std::nullopt, 0});
    return result_to_json(r, args.cni_version);
}

}  // namespace

Outcome loopback_add(const CmdArgs& args) {
    auto h = open_loopback(args.netns);
    if (!h) return Outcome::fail(kInternal, h.error());
    if (auto r = netlink::set_link_up(h->nl, h->lo.index, true); !r)
        return Outcome::fail(kInternal, r.error());

    // Chained: the previous result goes on, in this configuration's version.
    auto prev = args.config.find("prevResult");
    if (prev != args.config.end() && !prev->is_null()) {
        auto r = parse_result(*prev);
        if (!r) return Outcome::fail(kDecodeFailure, std::move(r).error().wrap("prevResult"));
        return Outcome::ok(result_to_json(*r, args.cni_version).dump());
    }
    return Outcome::ok(lone_result(args).dump());
}

Outcome loopback_del(const CmdArgs& args) {
    if (args.netns.empty()) return Outcome::ok();
    auto h = open_loopback(args.netns);
    if (!h) {
        if (namespace_gone(h.error())) return Outcome::ok();
        return Outcome::fail(kInternal, h.error());
    }
    if (auto r = netlink::set_link_up(h->nl, h->lo.index, false); !r)
        return Outcome::fail(kInternal, r.error());
    return Outcome::ok();
}

Outcome loopback_check(const CmdArgs& args) {
    auto h = open_loopback(args.netns);
    if (!h) return Outcome::fail(kInternal, h.error());
    if (!(h->lo.flags & IFF_LOOPBACK))
        return Outcome::fail({kInternal, "interface lo is not a loopback interface", ""});
    if (!h->lo.up()) return Outcome::fail({kInternal, "loopback interface is down", ""});
    return Outcome::ok();
}

Outcome loopback_status(const CmdArgs&) {
    return Outcome::ok();
}
Outcome loopback_gc(const CmdArgs&) {
    return Outcome::ok();
}

PluginFuncs loopback_funcs() {
    return {.add = loopback_add,
            .del = loopback_del,
            .check = loopback_check,
            .status = loopback_status,
            .gc = loopback_gc};
}

}  // namespace berth::net::cni
