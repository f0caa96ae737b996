#include "engine/network/container_net.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "net/cnidriver/config.h"

namespace berth::engine::network {
namespace {

using Json = nlohmann::json;

Json strings(const std::vector<std::string>& v) {
    return Json(v);
}

std::vector<std::string> strings_from(const Json& j, const char* key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return out;
    for (const auto& s : *it) {
        if (s.is_string()) out.push_back(s.get<std::string>());
    }
    return out;
}

}  // namespace

Result<ContainerNet> parse_network_mode(const std::string& value) {
    ContainerNet net;
    if (value == "none" || value == "host") {
        net.mode = value;
        return net;
    }
    if (value.starts_with("container:")) {
        net.mode = "container";
        net.container_id = value.substr(10);
        if (net.container_id.empty()) {
            return Error(EINVAL) << "--network `" << value << "`: want container:NAME-OR-ID";
        }
        return net;
    }
    net.mode = "bridge";
    std::vector<std::string> names =
        value.empty() || value == "bridge" ? std::vector<std::string>{"berth"} : split(value, ',');
    for (const auto& n : names) {
        if (n == "none" || n == "host" || n.starts_with("container:")) {
            return Error(EINVAL) << "--network `" << value << "`: " << n
                                 << " cannot be combined with other networks";
        }
        std::string name = n == "bridge" ? "berth" : n;
        if (!net::cnidriver::valid_network_name(name)) {
            return Error(EINVAL) << "--network `" << value << "`: invalid network name `" << n
                                 << "`";
        }
        bool dup = std::any_of(net.networks.begin(), net.networks.end(),
                               [&](const auto& a) { return a.network == name; });
        if (dup) return Error(EINVAL) << "--network `" << value << "`: " << n << " given twice";
        NetworkAttachment a;
        a.network = name;
        a.ifname = next_ifname(net);
        net.networks.push_back(a);
    }
    return net;
}

std::string next_ifname(const ContainerNet& net) {
    for (int i = 0;; ++i) {
        std::string name = "eth" + std::to_string(i);
        bool used = std::any_of(net.networks.begin(), net.networks.end(),
                                [&](const auto& a) { return a.ifname == name; });
        if (!used) return name;
    }
}

std::string container_net_path(const std::string& state_dir) {
    return path_join(state_dir, "network.json");
}

Result<void> save_container_net(const std::string& state_dir, const ContainerNet& net) {
    Json nets = Json::array();
    for (const auto& a : net.networks) {
        nets.push_back(
            {{"network", a.network}, {"ifname", a.ifname}, {"ip", a.ip}, {"mac", a.mac}});
    }
    Json j = {{"mode", net.mode},
              {"container", net.container_id},
              {"networks", nets},
              {"ports", port_mappings_json(net.ports)},
              {"dns", strings(net.dns)},
              {"dnsSearch", strings(net.dns_search)},
              {"dnsOptions", strings(net.dns_options)},
              {"addHosts", strings(net.add_hosts)}};
    return write_file_atomic(container_net_path(state_dir), j.dump(1) + "\n", 0600);
}

Result<ContainerNet> load_container_net(const std::string& state_dir,
                                        const std::string& fallback_mode) {
    std::string path = container_net_path(state_dir);
    ContainerNet net;
    if (!path_exists(path)) {
        net.mode = fallback_mode;
        return net;
    }
    std::string text = BERTH_TRY(read_file(path));
    Json j = Json::parse(text, nullptr, false);
    if (!j.is_object()) return Error(EINVAL) << "`" << path << "`: not a JSON object";
    net.mode = j.value("mode", fallback_mode);
    net.container_id = j.value("container", "");
    if (auto it = j.find("networks"); it != j.end() && it->is_array()) {
        for (const auto& a : *it) {
            if (!a.is_object()) continue;
            net.networks.push_back({a.value("network", ""), a.value("ifname", ""),
                                    a.value("ip", ""), a.value("mac", "")});
        }
    }
    if (auto it = j.find("ports"); it != j.end()) net.ports = mappings_from_json(*it);
    net.dns = strings_from(j, "dns");
    net.dns_search = strings_from(j, "dnsSearch");
    net.dns_options = strings_from(j, "dnsOptions");
    net.add_hosts = strings_from(j, "addHosts");
    return net;
}

}  // namespace berth::engine::network
