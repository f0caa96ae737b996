// The engine's side of networking (engine/network has the pieces): what `create` resolves from
// the network flags, the netns, CNI attachments and /etc files a task start makes, and their
// release on stop, rm and gc. The netns and the attachments belong to the container from start
// to stop: the monitor's restarts of the task reuse them.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "base/strings.h"
#include "engine/container_lock.h"
#include "engine/engine.h"
#include "engine/monitor_launch.h"
#include "engine/netns.h"
#include "engine/network/attacher.h"
#include "engine/network/dns_service.h"
#include "engine/network/etc_files.h"
#include "engine/network/network_store.h"
#include "net/ip/addr.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;
namespace nw = network;

constexpr const char* kEtcFiles[] = {"hosts", "hostname", "resolv.conf"};

std::string strip_prefix(const std::string& cidr) {
    return cidr.substr(0, cidr.find('/'));
}

bool valid_mac(const std::string& mac) {
    if (mac.size() != 17) return false;
    for (size_t i = 0; i < mac.size(); ++i) {
        if (i % 3 == 2 ? mac[i] != ':' : !std::isxdigit(static_cast<unsigned char>(mac[i]))) {
            return false;
        }
    }
    return true;
}

std::string spec_hostname(const std::string& spec_text) {
    OJson spec = OJson::parse(spec_text, nullptr, false);
    if (spec.is_object() && spec.contains("hostname") && spec["hostname"].is_string()) {
        return spec["hostname"].get<std::string>();
    }
    return {};
}

void add_bind(OJson& spec, const std::string& destination, const std::string& source) {
    OJson& mounts = spec["mounts"];
    for (const auto& m : mounts) {
        if (m.is_object() && m.value("destination", "") == destination) return;  // the user's -v
    }
    mounts.push_back({{"destination", destination},
                      {"type", "bind"},
                      {"source", source},
                      {"options", {"rbind", "rprivate"}}});
}

// The container's entry on a DNS-enabled network, after its ADD: its name and short id. A
// failure is logged, not the container's: it runs, without names.
void join_dns(const Paths& paths, const ContainerRecord& r, const nw::NetworkInfo& info,
              const nw::AttachResult& added) {
    if (!info.dns_enabled) return;
    nw::DnsMember m;
    m.id = r.id;
    m.names = {r.name, r.id.substr(0, 12)};
    m.addresses = added.addresses;
    auto responder = find_helper("berth-dns");
    auto done = responder.ok() ? nw::dns_add(paths.runroot, info, m, *responder)
                               : Result<void>(responder.error());
    if (!done.ok()) log::warn("network " + info.name + ": name resolution: " + done.error().what());
}

void leave_dns(const Paths& paths, const std::string& network, const std::string& id) {
    if (auto d = nw::dns_remove(paths.runroot, network, id); !d.ok()) {
        log::warn("network " + network + ": name resolution: " + d.error().what());
    }
}

// Writes in place (no rename): the files may be bind-mounted into a running container already.
Result<void> write_in_place(const std::string& path, const std::string& text) {
    return write_file(path, text, true, 0644);
}

}  // namespace

Result<nw::ContainerNet> Engine::prepare_network(const CreateOptions& o,
                                                 const image::ImageConfig& img) {
    nw::ContainerNet net = BERTH_TRY(nw::parse_network_mode(o.network));
    bool bridge = net.mode == "bridge";
    if (net.mode == "container") {
        auto other = BERTH_TRY_CTX(containers_.find(paths_.ns, net.container_id),
                                   "--network container:" + net.container_id);
        net.container_id = other.id;
    }
    if (bridge) {
        nw::NetworkStore store(paths_.root);
        for (const auto& a : net.networks) {
            BERTH_TRY_CTX(store.get(a.network), "--network");
        }
    }
    auto need_bridge = [&](const char* flag) -> Result<void> {
        if (bridge) return {};
        return Error(EINVAL) << flag << " needs a bridge network (--network " << o.network << ")";
    };
    if (!o.ip.empty()) {
        BERTH_TRY(need_bridge("--ip"));
        auto ip = net::IpAddr::parse(o.ip);
        if (!ip) return Error(EINVAL) << "--ip `" << o.ip << "`: not an IP address";
        net.networks.front().ip = ip->str();
    }
    if (!o.mac_address.empty()) {
        BERTH_TRY(need_bridge("--mac-address"));
        if (!valid_mac(o.mac_address)) {
            return Error(EINVAL) << "--mac-address `" << o.mac_address
                                 << "`: want xx:xx:xx:xx:xx:xx";
        }
        net.networks.front().mac = o.mac_address;
    }
    for (const auto& p : o.publish) {
        BERTH_TRY(need_bridge("-p/--publish"));
        for (auto& m : BERTH_TRY(nw::parse_publish(p))) net.ports.push_back(m);
    }
    if (o.publish_all && bridge) {
        for (auto& m : BERTH_TRY(nw::exposed_ports(img.exposed_ports))) {
            bool published = std::any_of(net.ports.begin(), net.ports.end(), [&](const auto& p) {
                return p.container_port == m.container_port && p.protocol == m.protocol;
            });
            if (!published) net.ports.push_back(m);
        }
    }
    BERTH_TRY(nw::assign_host_ports(net.ports));
    for (size_t i = 0; i < net.ports.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            const auto &a = net.ports[i], &b = net.ports[j];
            if (a.host_port == b.host_port && a.protocol == b.protocol && a.host_ip == b.host_ip) {
                return Error(EINVAL) << "-p: host port " << a.host_port << "/" << a.protocol
                                     << " is published twice";
            }
        }
    }
    for (const auto& h : o.add_hosts) BERTH_TRY(nw::check_add_host(h));
    for (const auto& d : o.dns) {
        if (!net::IpAddr::parse(d))
            return Error(EINVAL) << "--dns `" << d << "`: not an IP address";
    }
    net.add_hosts = o.add_hosts;
    net.dns = o.dns;
    net.dns_search = o.dns_search;
    net.dns_options = o.dns_options;
    return net;
}

Result<nw::ContainerNet> Engine::container_net(const ContainerRecord& r) const {
    return nw::load_container_net(paths_.state_dir(r.id), r.network);
}

// /etc/hosts, /etc/hostname and /etc/resolv.conf in the bundle dir; the container's addresses
// from the CNI cache.
Result<void> Engine::write_etc_files(const ContainerRecord& r, const nw::ContainerNet& net,
                                     const std::string& hostname) {
    std::string dir = paths_.bundle_dir(r.id);
    BERTH_TRY(mkdir_p(dir, 0700));
    nw::HostsInput hosts;
    hosts.hostname = hostname;
    hosts.name = r.name;
    hosts.add_hosts = net.add_hosts;
    if (net.mode == "host") {
        auto base = read_file("/etc/hosts");
        if (base.ok()) hosts.base = *base;
    }
    nw::Attacher attacher(paths_.root, paths_.runroot);
    for (const auto& a : net.networks) {
        auto c = attacher.cached(a.network, r.id, a.ifname);
        if (!c.ok()) continue;
        for (const auto& addr : c->addresses) hosts.addresses.push_back(strip_prefix(addr));
    }
    auto resolv = read_file("/etc/resolv.conf");
    std::string host_resolv = resolv.ok() ? *resolv : "";
    // Without --dns, the responders of its DNS-enabled networks, and their search domain.
    std::vector<std::string> dns = net.dns, dns_search = net.dns_search;
    if (dns.empty() && net.mode == "bridge") {
        nw::NetworkStore store(paths_.root);
        for (const auto& a : net.networks) {
            auto info = store.get(a.network);
            if (!info.ok()) continue;
            for (const auto& s : nw::dns_servers_of(*info)) dns.push_back(s);
        }
        if (!dns.empty() && dns_search.empty()) {
            dns_search = {nw::kDnsDomain};
            for (auto& d : nw::host_search_domains(host_resolv)) dns_search.push_back(d);
        }
    }
    BERTH_TRY(write_in_place(path_join(dir, "hosts"), nw::hosts_file(hosts)));
    BERTH_TRY(write_in_place(path_join(dir, "hostname"), hostname + "\n"));
    BERTH_TRY(write_in_place(
        path_join(dir, "resolv.conf"),
        nw::resolv_conf(host_resolv, dns, dns_search, net.dns_options, net.mode == "host")));
    return {};
}

Result<void> Engine::start_network(const ContainerRecord& r, OJson& spec) {
    // After a release by the previous run's exit command, never during it.
    ContainerLock lock = BERTH_TRY(lock_container(paths_, r.id));
    nw::ContainerNet net = BERTH_TRY(container_net(r));
    std::string hostname = spec.value("hostname", r.id.substr(0, 12));
    auto set_netns = [&](const std::string& path) {
        for (auto& ns : spec["linux"]["namespaces"]) {
            if (ns["type"] == "network") ns["path"] = path;
        }
    };
    std::string etc_dir = paths_.bundle_dir(r.id);
    if (net.mode == "container") {
        auto other = BERTH_TRY_CTX(containers_.find(paths_.ns, net.container_id),
                                   "--network container:" + net.container_id);
        ContainerView v = view(other);
        if (!v.running() || !v.task) {
            return Error(EINVAL) << "--network container:" << other.name
                                 << ": that container is not running";
        }
        std::string pinned = paths_.netns_path(other.id);
        std::string path =
            path_exists(pinned) ? pinned : "/proc/" + std::to_string(v.task->pid) + "/ns/net";
        if (!path_exists(path)) {
            return Error(EINVAL) << "--network container:" << other.name
                                 << ": its network namespace is gone";
        }
        set_netns(path);
        // The other container's /etc files, as docker shares them.
        if (path_exists(path_join(paths_.bundle_dir(other.id), "hosts"))) {
            etc_dir = paths_.bundle_dir(other.id);
        } else {
            BERTH_TRY(write_etc_files(r, net, hostname));
        }
    } else {
        if (net.mode != "host") {
            std::string netns = paths_.netns_path(r.id);
            BERTH_TRY(create_netns(netns));
            set_netns(netns);
        }
        if (net.mode == "bridge") {
            nw::NetworkStore store(paths_.root);
            nw::Attacher attacher(paths_.root, paths_.runroot);
            std::string netns = paths_.netns_path(r.id);
            auto undo = make_scope_guard([&] { release_network(r); });
            for (size_t i = 0; i < net.networks.size(); ++i) {
                const auto& a = net.networks[i];
                // An earlier run's attachment (the task ended on its own): made afresh.
                if (auto c = attacher.cached(a.network, r.id, a.ifname);
                    c.ok() && !c->addresses.empty()) {
                    BERTH_TRY(attacher.del(a.network, r.id, netns, a.ifname));
                }
                auto info = BERTH_TRY(store.get(a.network));
                auto added = BERTH_TRY(attacher.add(
                    info, r.id, netns, a, i == 0 ? net.ports : std::vector<nw::PortMapping>{}));
                join_dns(paths_, r, info, added);
            }
            undo.dismiss();
        }
        BERTH_TRY(write_etc_files(r, net, hostname));
    }
    for (const char* f : kEtcFiles) {
        add_bind(spec, std::string("/etc/") + f, path_join(etc_dir, f));
    }
    return {};
}

void Engine::release_network(const ContainerRecord& r) {
    // stop and the monitor's exit command may both release: one at a time.
    auto lock = lock_container(paths_, r.id);
    if (!lock.ok()) log::warn(lock.error().what());
    auto net = container_net(r);
    std::string netns = paths_.netns_path(r.id);
    if (net.ok() && net->mode == "bridge") {
        nw::Attacher attacher(paths_.root, paths_.runroot);
        for (const auto& a : net->networks) {
            // A failed DEL keeps its cache entry: gc retries it.
            if (auto d = attacher.del(a.network, r.id, netns, a.ifname); !d.ok()) {
                log::warn(d.error().what());
            }
            leave_dns(paths_, a.network, r.id);
        }
    }
    if (auto n = remove_netns(netns); !n.ok()) log::warn(n.error().what());
}

Result<std::vector<std::string>> Engine::gc_network(const std::vector<ContainerRecord>& rows) {
    std::vector<net::cnidriver::Attachment> valid;
    for (const auto& r : rows) {
        auto net = container_net(r);
        if (!net.ok()) continue;
        for (const auto& a : net->networks) valid.push_back({r.id, a.ifname});
    }
    nw::Attacher attacher(paths_.root, paths_.runroot);
    auto removed = BERTH_TRY(attacher.gc(valid));
    // DNS entries of containers whose task is over (a monitor killed: its netns may stay until
    // rm, its name goes now). A start in progress reads "created" and keeps its entry; another
    // namespace's rows are left alone.
    std::set<std::string> live;
    for (const auto& r : rows) {
        if (r.ns != paths_.ns) {
            live.insert(r.id);
            continue;
        }
        std::string state = view(r).state;
        if (state != "exited" && state != "removed") live.insert(r.id);
    }
    for (auto& line : BERTH_TRY(nw::dns_gc(paths_.runroot, live))) removed.push_back(line);
    // Responders killed while their networks still have containers: started again.
    nw::NetworkStore store(paths_.root);
    auto responder = find_helper("berth-dns");
    auto networks = store.list();
    if (responder.ok() && networks.ok()) {
        for (const auto& n : *networks) {
            if (!n.dns_enabled) continue;
            auto revived = nw::dns_revive(paths_.runroot, n, *responder);
            if (!revived.ok()) log::warn(revived.error().what());
            if (revived.ok() && *revived)
                removed.push_back("dns responder of " + n.name + " restarted");
        }
    }
    return removed;
}

nlohmann::json Engine::network_settings(const ContainerRecord& r) const {
    using Json = nlohmann::json;
    Json ports = Json::object();
    Json networks = Json::object();
    auto net = container_net(r);
    if (net.ok()) {
        for (const auto& p : net->ports) {
            std::string key = std::to_string(p.container_port) + "/" + p.protocol;
            if (!ports.contains(key)) ports[key] = Json::array();
            ports[key].push_back({{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
                                  {"HostPort", std::to_string(p.host_port)}});
        }
        nw::Attacher attacher(paths_.root, paths_.runroot);
        for (const auto& a : net->networks) {
            Json n = {{"InterfaceName", a.ifname}, {"IPAddress", ""},
                      {"IPPrefixLen", 0},          {"Gateway", ""},
                      {"GlobalIPv6Address", ""},   {"GlobalIPv6PrefixLen", 0},
                      {"IPv6Gateway", ""},         {"MacAddress", ""}};
            if (auto c = attacher.cached(a.network, r.id, a.ifname); c.ok()) {
                n["MacAddress"] = c->mac;
                for (size_t i = 0; i < c->addresses.size(); ++i) {
                    const std::string& cidr = c->addresses[i];
                    size_t slash = cidr.find('/');
                    int prefix = slash == std::string::npos
                                     ? 0
                                     : parse_number<int>(cidr.substr(slash + 1)).value_or(0);
                    bool v6 = cidr.find(':') != std::string::npos;
                    if (!n[v6 ? "GlobalIPv6Address" : "IPAddress"].get<std::string>().empty()) {
                        continue;
                    }
                    n[v6 ? "GlobalIPv6Address" : "IPAddress"] = strip_prefix(cidr);
                    n[v6 ? "GlobalIPv6PrefixLen" : "IPPrefixLen"] = prefix;
                    n[v6 ? "IPv6Gateway" : "Gateway"] = c->gateways[i];
                }
            }
            networks[a.network] = n;
        }
    }
    std::string bundle = paths_.bundle_dir(r.id);
    bool own_files = path_exists(path_join(bundle, "hosts"));
    return {{"Ports", ports},
            {"Networks", networks},
            {"SandboxKey", path_exists(paths_.netns_path(r.id)) ? paths_.netns_path(r.id) : ""},
            {"HostsPath", own_files ? path_join(bundle, "hosts") : ""},
            {"HostnamePath", own_files ? path_join(bundle, "hostname") : ""},
            {"ResolvConfPath", own_files ? path_join(bundle, "resolv.conf") : ""}};
}

Result<void> Engine::network_connect(const ContainerView& c, const std::string& name) {
    ContainerLock lock = BERTH_TRY(lock_container(paths_, c.record.id));
    nw::ContainerNet net = BERTH_TRY(container_net(c.record));
    if (net.mode != "bridge") {
        return Error(EINVAL) << "container " << c.record.name << " uses --network " << net.mode
                             << ": it cannot join other networks";
    }
    nw::NetworkStore store(paths_.root);
    auto info = BERTH_TRY(store.get(name));
    for (const auto& a : net.networks) {
        if (a.network == info.name) {
            return Error(EEXIST) << "container " << c.record.name << " is already connected to "
                                 << info.name;
        }
    }
    nw::NetworkAttachment a;
    a.network = info.name;
    a.ifname = nw::next_ifname(net);
    ContainerView now = view(c.record);
    if (now.running()) {
        nw::Attacher attacher(paths_.root, paths_.runroot);
        auto added =
            BERTH_TRY(attacher.add(info, c.record.id, paths_.netns_path(c.record.id), a, {}));
        join_dns(paths_, c.record, info, added);
    }
    net.networks.push_back(a);
    BERTH_TRY(nw::save_container_net(paths_.state_dir(c.record.id), net));
    if (now.running()) {
        BERTH_TRY(write_etc_files(c.record, net, spec_hostname(c.record.spec)));
    }
    return {};
}

Result<void> Engine::network_disconnect(const ContainerView& c, const std::string& name) {
    ContainerLock lock = BERTH_TRY(lock_container(paths_, c.record.id));
    nw::ContainerNet net = BERTH_TRY(container_net(c.record));
    std::string wanted = name == "bridge" ? nw::kDefaultNetwork : name;
    auto it = std::find_if(net.networks.begin(), net.networks.end(),
                           [&](const auto& a) { return a.network == wanted; });
    if (it == net.networks.end()) {
        return Error(ENOENT) << "container " << c.record.name << " is not connected to network "
                             << name;
    }
    nw::Attacher attacher(paths_.root, paths_.runroot);
    BERTH_TRY(attacher.del(it->network, c.record.id, paths_.netns_path(c.record.id), it->ifname));
    leave_dns(paths_, it->network, c.record.id);
    net.networks.erase(it);
    BERTH_TRY(nw::save_container_net(paths_.state_dir(c.record.id), net));
    if (view(c.record).running()) {
        BERTH_TRY(write_etc_files(c.record, net, spec_hostname(c.record.spec)));
    }
    return {};
}

Result<std::vector<std::string>> Engine::network_users(const std::string& name) {
    std::string wanted = name == "bridge" ? nw::kDefaultNetwork : name;
    std::vector<std::string> users;
    for (const auto& r : BERTH_TRY(containers_.list_all())) {
        auto net = container_net(r);
        if (!net.ok()) continue;
        for (const auto& a : net->networks) {
            if (a.network == wanted) users.push_back(r.id);
        }
    }
    return users;
}

}  // namespace berth::engine
