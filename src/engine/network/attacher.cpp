#include "engine/network/attacher.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <set>

#include "base/file.h"

namespace berth::engine::network {
namespace {

using Json = nlohmann::json;
namespace cd = net::cnidriver;

std::string executable_dir() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) return {};
    return path_dirname(std::string(buf, size_t(n)));
}

cd::DriverOptions driver_options(const std::string& runroot) {
    cd::DriverOptions o;
    std::string self = executable_dir();
    if (!self.empty()) o.plugin_dirs.push_back(self);
    o.plugin_dirs.push_back("/usr/lib/cni");
    o.cache_dir = path_join(runroot, "cni");
    return o;
}

Result<void> check(const net::cni::Outcome& out, const std::string& what) {
    if (!out.error) return {};
    return cd::outcome_error(*out.error).wrap(what);
}

// The interface `ifname` inside the container and its addresses, from a CNI result.
AttachResult parse_result(const Json& r, const std::string& network, const std::string& ifname) {
    AttachResult out;
    out.network = network;
    out.ifname = ifname;
    if (!r.is_object()) return out;
    std::set<size_t> ours;
    if (auto it = r.find("interfaces"); it != r.end() && it->is_array()) {
        for (size_t i = 0; i < it->size(); ++i) {
            const Json& itf = (*it)[i];
            if (itf.value("name", "") == ifname && !itf.value("sandbox", "").empty()) {
                ours.insert(i);
                out.mac = itf.value("mac", "");
            }
        }
    }
    if (auto it = r.find("ips"); it != r.end() && it->is_array()) {
        for (const auto& ip : *it) {
            auto idx = ip.find("interface");
            if (!ours.empty() && idx != ip.end() && idx->is_number_unsigned() &&
                !ours.count(idx->get<size_t>())) {
                continue;
            }
            out.addresses.push_back(ip.value("address", ""));
            out.gateways.push_back(ip.value("gateway", ""));
        }
    }
    return out;
}

}  // namespace

Attacher::Attacher(const std::string& root, const std::string& runroot)
    : store_(root), runroot_(runroot), driver_(driver_options(runroot)) {}

Result<cd::NetworkConfigList> Attacher::load(const std::string& bytes,
                                             const std::string& source) const {
    Json j = Json::parse(bytes, nullptr, false);
    if (!j.is_object()) return Error(EINVAL) << "`" << source << "`: not a JSON object";
    if (auto plugins = j.find("plugins"); plugins != j.end() && plugins->is_array()) {
        for (auto& p : *plugins) {
            if (!p.is_object() || !p.contains("ipam") || !p["ipam"].is_object()) continue;
            Json& ipam = p["ipam"];
            std::string type = ipam.value("type", "");
            if ((type == "berth-host-local" || type == "host-local") && !ipam.contains("dataDir")) {
                ipam["dataDir"] = path_join(path_join(runroot_, "cni"), "networks");
            }
        }
    }
    return cd::parse_conflist(j.dump(), source);
}

Result<AttachResult> Attacher::add(const NetworkInfo& network, const std::string& container_id,
                                   const std::string& netns, const NetworkAttachment& att,
                                   const std::vector<PortMapping>& ports) {
    auto list = BERTH_TRY(load(network.conflist, network.file));
    cd::RuntimeConf rt;
    rt.container_id = container_id;
    rt.netns = netns;
    rt.ifname = att.ifname;
    rt.capability_args = Json::object();
    if (!ports.empty()) rt.capability_args["portMappings"] = port_mappings_json(ports);
    if (!att.ip.empty()) rt.capability_args["ips"] = Json::array({att.ip});
    if (!att.mac.empty()) rt.capability_args["mac"] = att.mac;
    auto out = driver_.add(list, rt);
    BERTH_TRY(check(out, "attaching to network " + network.name));
    Json r = Json::parse(out.output, nullptr, false);
    return parse_result(r, network.name, att.ifname);
}

Result<void> Attacher::del(const std::string& network, const std::string& container_id,
                           const std::string& netns, const std::string& ifname) {
    auto cached =
        BERTH_TRY(cd::read_cached(driver_.options().cache_dir, network, container_id, ifname));
    // Nothing cached: nothing was added (an ADD killed half-way is gc's, with the plugins' GC).
    if (!cached) return {};
    auto list = BERTH_TRY(load(cached->config, "cached configuration of " + network));
    cd::RuntimeConf rt;
    rt.container_id = container_id;
    // A namespace that is gone is no namespace at all for the plugins.
    rt.netns = !netns.empty() && path_exists(netns) ? netns : "";
    rt.ifname = ifname;
    auto out = driver_.del(list, rt);
    return check(out, "detaching from network " + network);
}

Result<AttachResult> Attacher::cached(const std::string& network, const std::string& container_id,
                                      const std::string& ifname) {
    auto c = BERTH_TRY(cd::read_cached(driver_.options().cache_dir, network, container_id, ifname));
    if (!c) return AttachResult{network, ifname, {}, {}, {}};
    return parse_result(c->result, network, ifname);
}

Result<std::vector<std::string>> Attacher::gc(const std::vector<cd::Attachment>& valid) {
    std::vector<std::string> removed;
    auto cachedv = BERTH_TRY(driver_.cached_attachments());
    for (const auto& c : cachedv) {
        if (std::find(valid.begin(), valid.end(), cd::Attachment{c.container_id, c.ifname}) ==
            valid.end()) {
            removed.push_back("network attachment " + c.network_name + "/" + c.container_id + "/" +
                              c.ifname);
        }
    }
    // Each network once: the store's configuration, else the one a cached attachment used.
    std::map<std::string, std::pair<std::string, std::string>> lists;
    for (const auto& n : BERTH_TRY(store_.list())) lists[n.name] = {n.conflist, n.file};
    for (const auto& c : cachedv) {
        if (!lists.count(c.network_name)) {
            lists[c.network_name] = {c.config, "cached configuration of " + c.network_name};
        }
    }
    Result<void> first;
    for (const auto& [name, conf] : lists) {
        auto list = load(conf.first, conf.second);
        if (!list.ok()) continue;
        auto out = driver_.gc(*list, valid);
        if (auto r = check(out, "gc of network " + name); !r.ok() && first.ok()) first = r;
    }
    if (!first.ok()) return std::move(first).error();
    return removed;
}

}  // namespace berth::engine::network
