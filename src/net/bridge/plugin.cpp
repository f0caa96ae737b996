#include "net/bridge/plugin.h"

#include <sys/socket.h>

#include <set>
#include <system_error>
#include <thread>

#include "base/scope_guard.h"
#include "net/bridge/config.h"
#include "net/bridge/container_side.h"
#include "net/bridge/host_side.h"
#include "net/bridge/naming.h"
#include "net/cni/host_local.h"
#include "net/cni/invoke.h"
#include "net/netlink/bridge_port.h"
#include "net/netlink/link_delete_detached.h"
#include "net/netlink/netns.h"
#include "net/nft/mac_spoof.h"
#include "net/nft/masquerade.h"
#include "net/nft/nft.h"

namespace berth::net::bridge {

using cni::CmdArgs;
using cni::Outcome;
using netlink::LinkInfo;
using netlink::NetlinkSocket;

namespace {

// Index of the container interface in the result: bridge, host veth, container.
constexpr int kContainerInterface = 2;

Outcome config_failure(const Error& e) {
    return Outcome::fail(cni::kInvalidNetworkConfig, e);
}

Outcome internal(const Error& e) {
    return Outcome::fail(cni::kInternal, e);
}

// berth's own host-local runs in this process (same configuration, data directory and file
// locks as the executable, so the two can be mixed on a node); any other IPAM type is exec'd
// from CNI_PATH as the spec says.
constexpr std::string_view kInProcessIpam = "berth-host-local";

Outcome run_ipam(const BridgeConfig& conf, const CmdArgs& args, const char* command) {
    if (conf.ipam_type == kInProcessIpam) {
        CmdArgs ipam = args;
        ipam.command = command;
        const std::string_view c = command;
        if (c == "ADD") return cni::host_local_add(ipam);
        if (c == "DEL") return cni::host_local_del(ipam);
        if (c == "CHECK") return cni::host_local_check(ipam);
        if (c == "GC") return cni::host_local_gc(ipam);
        return cni::host_local_status(ipam);
    }
    cni::PluginEnv env{command, args.container_id, args.netns, args.ifname, args.args, args.path};
    return cni::delegate(conf.ipam_type, env, args.stdin_data);
}

// The container addresses and MAC a previous result (DEL's prevResult) names, when it does.
std::vector<IpNet> prev_addresses(const BridgeConfig& conf) {
    std::vector<IpNet> out;
    if (conf.prev_result)
        for (const auto& ip : conf.prev_result->ips) out.push_back(ip.address);
    return out;
}

std::string prev_container_mac(const BridgeConfig& conf, const std::string& ifname) {
    if (conf.prev_result)
        for (const cni::Interface& i : conf.prev_result->interfaces)
            if (i.name == ifname && !i.sandbox.empty()) return i.mac;
    return {};
}

nft::AttachmentId attachment_id(const CmdArgs& args) {
    return {args.container_id, args.ifname};
}

// A missing namespace is "unknown container" (nothing to clean up); anything else is the
// environment's fault.
Outcome netns_failure(const std::string& path, const Error& e) {
    uint32_t code = e.errno_value() == ENOENT ? cni::kUnknownContainer : cni::kInvalidEnvironment;
    return Outcome::fail(code, Error(e).wrap("open netns \"" + path + "\""));
}

// The gateway of each address (the subnet's first address when IPAM gave none), and the default
// routes isDefaultGateway asks for.
void apply_gateways(const BridgeConfig& conf, cni::CniResult& result) {
    if (!conf.is_gateway) return;
    bool default_v4 = false, default_v6 = false;
    for (const auto& r : result.routes)
        if (r.dst.prefix_len() == 0 && r.gw)
            (r.dst.addr().is_v4() ? default_v4 : default_v6) = true;
    for (auto& ip : result.ips) {
        if (!ip.gateway) ip.gateway = ip.address.network().next();
        if (!conf.is_default_gateway) continue;
        bool& have = ip.address.addr().is_v4() ? default_v4 : default_v6;
        if (have) continue;
        IpAddr any = ip.address.addr().is_v4() ? IpAddr() : *IpAddr::parse("::");
        result.routes.push_back({.dst = IpNet(any, 0), .gw = ip.gateway});
        have = true;
    }
}

std::vector<netlink::BridgeVlan> port_vlans(const BridgeConfig& conf) {
    std::vector<netlink::BridgeVlan> vlans;
    if (conf.vlan) vlans.push_back({.vid = conf.vlan, .pvid = true, .untagged = true});
    for (const VlanRange& r : conf.vlan_trunk) vlans.push_back({.vid = r.min, .last = r.max});
    return vlans;
}

Result<void> configure_port(NetlinkSocket& nl, const BridgeConfig& conf, int index) {
    auto vlans = port_vlans(conf);
    if (!conf.hairpin && vlans.empty()) return {};
    netlink::BridgePortOptions opts;
    if (conf.hairpin) opts.hairpin = true;
    BERTH_TRY(netlink::configure_bridge_port(nl, index, opts, vlans));
    if (!vlans.empty() && !conf.preserve_default_vlan) {
        auto r = netlink::delete_bridge_vlans(nl, index, {{.vid = 1}});
        if (!r && r.error().errno_value() != ENOENT) return r;
    }
    return {};
}

cni::Interface interface_of(const LinkInfo& link, const std::string& sandbox = {}) {
    return {.name = link.name, .mac = link.mac, .sandbox = sandbox, .mtu = link.mtu};
}

}  // namespace

Outcome bridge_add(const CmdArgs& args) {
    auto conf_r = parse_bridge_config(args.config, args.args);
    if (!conf_r) return config_failure(conf_r.error());
    const BridgeConfig& conf = *conf_r;
    auto netns = open_netns(args.netns);
    if (!netns) return netns_failure(args.netns, netns.error());

    // A delegated IPAM plugin runs (an exec, the slowest step) while this thread builds the
    // bridge and the veth; it is joined before anything here returns. berth-host-local in
    // process takes well under a millisecond: no thread for it.
    std::optional<Outcome> ipam_out;
    std::thread ipam_thread;
    auto ipam_add = [&] { ipam_out = run_ipam(conf, args, "ADD"); };
    if (conf.ipam_type == kInProcessIpam) {
        ipam_add();
    } else if (!conf.ipam_type.empty()) {
        try {
            ipam_thread = std::thread(ipam_add);
        } catch (const std::system_error&) {
            ipam_add();
        }
    }
    // Joins the IPAM thread on every return, and releases what IPAM reserved unless ADD succeeds
    // (its DEL is idempotent).
    bool ipam_done = false;
    auto undo_ipam = make_scope_guard([&] {
        if (ipam_thread.joinable()) ipam_thread.join();
        if (!conf.ipam_type.empty() && !ipam_done) (void)run_ipam(conf, args, "DEL");
    });

    auto nl_r = NetlinkSocket::open();
    if (!nl_r) return internal(nl_r.error());
    NetlinkSocket& nl = *nl_r;
    auto bridge = ensure_bridge(nl, conf);
    if (!bridge) return internal(bridge.error());

    // The veth: its host end born on the bridge and up, its container end born in the container.
    const std::string host_name = host_veth_name(args.container_id, args.ifname);
    netlink::VethSpec spec{.name = host_name, .peer_name = args.ifname, .mtu = conf.mtu};
    spec.peer_netns_fd = netns->get();
    spec.master = bridge->index;
    spec.up = true;
    spec.peer_mac = conf.mac.value_or("");
    if (auto r = netlink::create_veth(nl, spec); !r) {
        if (r.error().errno_value() == EEXIST)
            return internal(Error(EEXIST)
                            << "container veth name provided (" << args.ifname
                            << ") already exists, or host veth " << host_name
                            << " does (a previous ADD of " << args.container_id << " not deleted)");
        return internal(r.error());
    }
    auto host = netlink::get_link(nl, host_name);
    if (!host) return internal(host.error());
    auto undo_veth = make_scope_guard([&] { (void)netlink::delete_link(nl, host->index); });
    if (auto r = configure_port(nl, conf, host->index); !r) return internal(r.error());

    cni::CniResult result;
    if (!conf.ipam_type.empty()) {
        if (ipam_thread.joinable()) ipam_thread.join();
        if (ipam_out->error) {
            ipam_done = true;  // nothing reserved
            return std::move(*ipam_out);
        }
        auto parsed = cni::parse_result(std::string_view(ipam_out->output));
        if (!parsed)
            return Outcome::fail(cni::kDecodeFailure, parsed.error().wrap("IPAM plugin result"));
        result = std::move(parsed).value();
        if (result.ips.empty())
            return internal(Error(EINVAL) << "IPAM plugin returned missing IP config");
    }
    result.interfaces.clear();
    for (auto& ip : result.ips) ip.interface = kContainerInterface;
    apply_gateways(conf, result);

    ContainerPlan plan{.ifname = args.ifname,
                       .ips = result.ips,
                       .routes = result.routes,
                       .enable_dad = conf.enable_dad,
                       .leave_down = conf.disable_container_interface};
    auto container = in_netns(*netns, [&] { return configure_container(plan); });
    if (!container) return internal(container.error().wrap("configure " + args.ifname));

    if (conf.is_gateway && !result.ips.empty()) {
        std::vector<IpNet> gateways;
        bool v4 = false, v6 = false;
        for (const auto& ip : result.ips) {
            gateways.emplace_back(*ip.gateway, ip.address.prefix_len());
            (ip.address.addr().is_v4() ? v4 : v6) = true;
        }
        auto gw_link = ensure_gateway_link(nl, conf, *bridge);
        if (!gw_link) return internal(gw_link.error());
        if (auto r = ensure_gateway_addresses(nl, *gw_link, gateways, conf.force_address); !r)
            return internal(r.error());
        if (auto r = enable_forwarding(v4, v6); !r) return internal(r.error());
    }

    std::optional<ScopeGuard<std::function<void()>>> undo_masq;
    if (conf.ip_masq && !result.ips.empty()) {
        nft::MasqueradeSpec masq{conf.name, attachment_id(args), {}};
        for (const auto& ip : result.ips) masq.addrs.push_back(ip.address);
        if (auto r = nft::add_masquerade(masq); !r) return internal(r.error());
        undo_masq.emplace(std::function<void()>([&, addrs = masq.addrs] {
            (void)nft::del_masquerade(conf.name, attachment_id(args), addrs);
        }));
    }
    if (conf.mac_spoof_check) {
        auto r =
            nft::add_mac_spoof_check({conf.name, attachment_id(args), host_name, container->mac});
        if (!r) return internal(r.error());
    }

    // The bridge's MAC may have changed as ports joined when someone else created it.
    auto bridge_now = netlink::get_link(nl, bridge->index);
    result.interfaces = {interface_of(bridge_now ? *bridge_now : *bridge), interface_of(*host),
                         interface_of(*container, args.netns)};
    undo_veth.dismiss();
    ipam_done = true;
    if (undo_masq) undo_masq->dismiss();
    return Outcome::ok(cni::result_to_json(result, args.cni_version).dump());
}

Outcome bridge_del(const CmdArgs& args) {
    auto conf_r = parse_bridge_config(args.config, args.args);
    if (!conf_r) return config_failure(conf_r.error());
    const BridgeConfig& conf = *conf_r;
    // nftables first, so the holder that deletes the veth below also holds the nft socket and
    // takes the kernel's wait for freeing the deleted elements (nft::defer_socket_release).
    if (conf.ip_masq)
        if (auto r = nft::del_masquerade(conf.name, attachment_id(args), prev_addresses(conf)); !r)
            return internal(r.error());
    if (conf.mac_spoof_check) {
        nft::MacSpoofSpec spec{conf.name, attachment_id(args),
                               host_veth_name(args.container_id, args.ifname),
                               prev_container_mac(conf, args.ifname)};
        if (auto r = nft::del_mac_spoof_check(spec); !r) return internal(r.error());
    }
    if (!conf.ipam_type.empty()) {
        Outcome o = run_ipam(conf, args, "DEL");
        if (o.error) return o;
    }
    // Deleting the host end deletes the pair, wherever the container end is.
    auto host = netlink::link_index_unlocked(host_veth_name(args.container_id, args.ifname));
    if (host) {
        auto r = netlink::delete_link_detached(*host);
        if (!r && r.error().errno_value() != ENODEV) return internal(r.error());
        return Outcome::ok();
    }
    if (host.error().errno_value() != ENODEV) return internal(host.error());
    if (conf.ip_masq || conf.mac_spoof_check) (void)nft::defer_socket_release();
    if (!args.netns.empty()) {
        // No host veth of ours: an attachment made by another bridge plugin (a random host
        // veth name), or already gone. A missing namespace means nothing is left in it.
        if (auto netns = open_netns(args.netns)) {
            auto r = in_netns(*netns, [&] { return delete_container_veth(args.ifname); });
            if (!r) return internal(r.error());
        }
    }
    return Outcome::ok();
}

Outcome bridge_check(const CmdArgs& args) {
    auto conf_r = parse_bridge_config(args.config, args.args);
    if (!conf_r) return config_failure(conf_r.error());
    const BridgeConfig& conf = *conf_r;
    if (!conf.prev_result)
        return config_failure(Error(EINVAL) << "config.prevResult: required for CHECK");
    const cni::CniResult& prev = *conf.prev_result;
    if (!conf.ipam_type.empty()) {
        Outcome o = run_ipam(conf, args, "CHECK");
        if (o.error) return o;
    }

    // The container interface the previous result names, and the host-side ones.
    int container_at = -1;
    for (size_t i = 0; i < prev.interfaces.size(); i++)
        if (prev.interfaces[i].name == args.ifname && !prev.interfaces[i].sandbox.empty())
            container_at = static_cast<int>(i);
    if (container_at < 0)
        return internal(Error(ENOENT)
                        << "prevResult has no interface " << args.ifname << " in a sandbox");
    auto nl = NetlinkSocket::open();
    if (!nl) return internal(nl.error());
    auto bridge = netlink::get_link(*nl, conf.bridge);
    if (!bridge) return internal(bridge.error().wrap("bridge"));
    if (bridge->kind != "bridge")
        return internal(Error(EINVAL) << "\"" << conf.bridge << "\" is not a bridge");
    const std::string host_name = host_veth_name(args.container_id, args.ifname);
    auto host = netlink::get_link(*nl, host_name);
    if (!host) return internal(host.error().wrap("host veth"));
    if (host->master != bridge->index)
        return internal(Error(EINVAL)
                        << "host veth " << host_name << " is not on bridge " << conf.bridge);
    for (const cni::Interface& i : prev.interfaces) {
        if (!i.sandbox.empty() || i.mac.empty()) continue;
        const LinkInfo* l = i.name == conf.bridge ? &*bridge
                            : i.name == host_name ? &*host
                                                  : nullptr;
        if (l && l->mac != i.mac)
            return internal(Error(EINVAL)
                            << i.name << " has MAC " << l->mac << ", expected " << i.mac);
    }
    if (conf.hairpin) {
        auto port = netlink::get_bridge_port(*nl, host->index);
        if (!port) return internal(port.error());
        if (!port->hairpin)
            return internal(Error(EINVAL)
                            << "host veth " << host_name << " is not in hairpin mode");
    }
    if (conf.vlan) {
        auto vlans = netlink::list_bridge_vlans(*nl, host->index);
        if (!vlans) return internal(vlans.error());
        bool have = false;
        for (const auto& v : *vlans) have |= v.vid == conf.vlan && v.pvid;
        if (!have)
            return internal(Error(EINVAL)
                            << "host veth " << host_name << " lacks PVID " << conf.vlan);
    }

    ContainerExpect expect{.ifname = args.ifname,
                           .mac = prev.interfaces[container_at].mac,
                           .host_index = host->index,
                           .ips = {},
                           .routes = prev.routes};
    for (const auto& ip : prev.ips)
        if (!ip.interface || *ip.interface == container_at) expect.ips.push_back(ip);
    if (conf.disable_container_interface) expect.routes.clear();
    auto netns = open_netns(args.netns);
    if (!netns) return netns_failure(args.netns, netns.error());
    if (auto r = in_netns(*netns, [&] { return check_container(expect); }); !r)
        return internal(r.error());

    if (conf.ip_masq && !expect.ips.empty()) {
        nft::MasqueradeSpec masq{conf.name, attachment_id(args), {}};
        for (const auto& ip : expect.ips) masq.addrs.push_back(ip.address);
        if (auto r = nft::check_masquerade(masq); !r) return internal(r.error());
    }
    if (conf.mac_spoof_check) {
        auto r =
            nft::check_mac_spoof_check({conf.name, attachment_id(args), host_name, expect.mac});
        if (!r) return internal(r.error());
    }
    return Outcome::ok();
}

Outcome bridge_gc(const CmdArgs& args) {
    auto conf_r = parse_bridge_config(args.config, args.args);
    if (!conf_r) return config_failure(conf_r.error());
    const BridgeConfig& conf = *conf_r;
    std::set<std::string> keep;
    std::vector<nft::AttachmentId> valid;
    for (const Attachment& a : conf.valid_attachments) {
        keep.insert(host_veth_name(a.container_id, a.ifname));
        valid.push_back({a.container_id, a.ifname});
    }
    // Every step runs even when one fails; the first failure is reported.
    std::optional<Outcome> failed;
    auto note = [&](Outcome o) {
        if (o.error && !failed) failed = std::move(o);
    };

    auto nl = NetlinkSocket::open();
    if (!nl) return internal(nl.error());
    auto bridge = netlink::get_link(*nl, conf.bridge);
    if (bridge && bridge->kind == "bridge") {
        auto links = netlink::list_links(*nl);
        if (!links) note(internal(links.error()));
        for (const LinkInfo& l : links ? *links : std::vector<LinkInfo>{}) {
            if (l.master != bridge->index || l.kind != "veth" || !is_host_veth_name(l.name) ||
                keep.count(l.name))
                continue;
            auto r = netlink::delete_link(*nl, l.index);
            if (!r && r.error().errno_value() != ENODEV) note(internal(r.error()));
        }
    } else if (!bridge && bridge.error().errno_value() != ENODEV) {
        note(internal(bridge.error()));
    }
    if (!conf.ipam_type.empty()) note(run_ipam(conf, args, "GC"));
    if (auto r = nft::gc_masquerade(conf.name, valid); !r) note(internal(r.error()));
    if (auto r = nft::gc_mac_spoof_check(conf.name, valid); !r) note(internal(r.error()));
    return failed ? std::move(*failed) : Outcome::ok();
}

Outcome bridge_status(const CmdArgs& args) {
    auto conf_r = parse_bridge_config(args.config, args.args);
    if (!conf_r) return config_failure(conf_r.error());
    if (conf_r->ipam_type.empty()) return Outcome::ok();
    return run_ipam(*conf_r, args, "STATUS");
}

cni::PluginFuncs bridge_plugin() {
    return {.add = bridge_add,
            .del = bridge_del,
            .check = bridge_check,
            .status = bridge_status,
            .gc = bridge_gc};
}

}  // namespace berth::net::bridge
