#include "net/cni/types.h"

#include "base/strings.h"
#include "oci/json_reader.h"

namespace berth::net::cni {

const std::vector<std::string>& supported_versions() {
    static const std::vector<std::string> versions{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
    return versions;
}

bool version_supported(std::string_view v) {
    for (const auto& s : supported_versions())
        if (s == v) return true;
    return false;
}

int compare_versions(std::string_view a, std::string_view b) {
    auto pa = split(a, '.'), pb = split(b, '.');
    for (size_t i = 0; i < 3; i++) {
        int x = i < pa.size() ? parse_number<int>(pa[i]).value_or(0) : 0;
        int y = i < pb.size() ? parse_number<int>(pb[i]).value_or(0) : 0;
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

Json CniError::to_json(std::string_view cni_version) const {
    Json j = Json::object();
    j["cniVersion"] = std::string(cni_version);
    j["code"] = code;
    j["msg"] = msg;
    if (!details.empty()) j["details"] = details;
    return j;
}

bool Dns::empty() const {
    return nameservers.empty() && domain.empty() && search.empty() && options.empty();
}

Json result_to_json(const CniResult& r, std::string_view cni_version) {
    const bool tag_version = compare_versions(cni_version, "1.0.0") < 0;
    const bool v1_1 = compare_versions(cni_version, "1.1.0") >= 0;
    Json j = Json::object();
    j["cniVersion"] = std::string(cni_version);
    if (!r.interfaces.empty()) {
        Json ifs = Json::array();
        for (const Interface& i : r.interfaces) {
            Json e = Json::object();
            e["name"] = i.name;
            if (!i.mac.empty()) e["mac"] = i.mac;
            if (v1_1 && i.mtu) e["mtu"] = *i.mtu;
            if (!i.sandbox.empty()) e["sandbox"] = i.sandbox;
            if (v1_1 && !i.socket_path.empty()) e["socketPath"] = i.socket_path;
            if (v1_1 && !i.pci_id.empty()) e["pciID"] = i.pci_id;
            ifs.push_back(std::move(e));
        }
        j["interfaces"] = std::move(ifs);
    }
    if (!r.ips.empty()) {
        Json ips = Json::array();
        for (const IpConfig& ip : r.ips) {
            Json e = Json::object();
            if (tag_version) e["version"] = ip.address.addr().is_v4() ? "4" : "6";
            if (ip.interface) e["interface"] = *ip.interface;
            e["address"] = ip.address.str();
            if (ip.gateway) e["gateway"] = ip.gateway->str();
            ips.push_back(std::move(e));
        }
        j["ips"] = std::move(ips);
    }
    if (!r.routes.empty()) {
        Json routes = Json::array();
        for (const RouteConfig& rt : r.routes) {
            Json e = Json::object();
            e["dst"] = rt.dst.str();
            if (rt.gw) e["gw"] = rt.gw->str();
            if (v1_1) {
                if (rt.mtu) e["mtu"] = *rt.mtu;
                if (rt.advmss) e["advmss"] = *rt.advmss;
                if (rt.priority) e["priority"] = *rt.priority;
                if (rt.table) e["table"] = *rt.table;
                if (rt.scope) e["scope"] = *rt.scope;
            }
            routes.push_back(std::move(e));
        }
        j["routes"] = std::move(routes);
    }
    Json dns = Json::object();
    if (!r.dns.nameservers.empty()) dns["nameservers"] = r.dns.nameservers;
    if (!r.dns.domain.empty()) dns["domain"] = r.dns.domain;
    if (!r.dns.search.empty()) dns["search"] = r.dns.search;
    if (!r.dns.options.empty()) dns["options"] = r.dns.options;
    j["dns"] = std::move(dns);
    return j;
}

namespace {

using oci::json::Node;

Result<IpNet> read_net(const Node& n) {
    std::string s = BERTH_TRY(n.as_string());
    auto net = IpNet::parse(s);
    if (!net) return n.error() << net.error().message();
    return *net;
}

Result<IpAddr> read_ip(const Node& n) {
    std::string s = BERTH_TRY(n.as_string());
    auto ip = IpAddr::parse(s);
    if (!ip) return n.error() << "invalid IP address \"" << s << "\"";
    return *ip;
}

Result<Interface> read_interface(const Node& n) {
    BERTH_TRY(n.expect_object());
    Interface i;
    BERTH_TRY(oci::json::read_required(n, "name", i.name));
    BERTH_TRY(oci::json::read(n, "mac", i.mac));
    BERTH_TRY(oci::json::read(n, "sandbox", i.sandbox));
    BERTH_TRY(oci::json::read(n, "mtu", i.mtu));
    BERTH_TRY(oci::json::read(n, "socketPath", i.socket_path));
    BERTH_TRY(oci::json::read(n, "pciID", i.pci_id));
    return i;
}

Result<IpConfig> read_ip_config(const Node& n, size_t n_interfaces) {
    BERTH_TRY(n.expect_object());
    IpConfig ip;
    ip.address = BERTH_TRY(read_net(BERTH_TRY(oci::json::require(n, "address"))));
    if (auto gw = n.member("gateway")) {
        ip.gateway = BERTH_TRY(read_ip(*gw));
        if (ip.gateway->family() != ip.address.family())
            return gw->error() << "gateway family differs from the address's";
    }
    if (auto v = n.member("version")) {
        std::string version = BERTH_TRY(v->as_string());
        if (version != "4" && version != "6")
            return v->error() << "must be \"4\" or \"6\", got \"" << version << "\"";
        if ((version == "4") != ip.address.addr().is_v4())
            return v->error() << "\"" << version << "\" does not match address "
                              << ip.address.str();
    }
    if (auto idx = n.member("interface")) {
        int i = BERTH_TRY(idx->as<int>());
        if (i < 0 || static_cast<size_t>(i) >= n_interfaces)
            return idx->error() << "index " << i << " is out of range (" << n_interfaces
                                << " interfaces)";
        ip.interface = i;
    }
    return ip;
}

Result<RouteConfig> read_route(const Node& n) {
    BERTH_TRY(n.expect_object());
    RouteConfig rt;
    rt.dst = BERTH_TRY(read_net(BERTH_TRY(oci::json::require(n, "dst"))));
    if (auto gw = n.member("gw")) {
        rt.gw = BERTH_TRY(read_ip(*gw));
        if (rt.gw->family() != rt.dst.family())
            return gw->error() << "gateway family differs from dst's";
    }
    BERTH_TRY(oci::json::read(n, "mtu", rt.mtu));
    BERTH_TRY(oci::json::read(n, "advmss", rt.advmss));
    BERTH_TRY(oci::json::read(n, "priority", rt.priority));
    BERTH_TRY(oci::json::read(n, "table", rt.table));
    BERTH_TRY(oci::json::read(n, "scope", rt.scope));
    return rt;
}

}  // namespace

Result<CniResult> parse_result(const Json& j) {
    Node root(j, "result");
    BERTH_TRY(root.expect_object());
    CniResult r;
    if (auto v = root.member("cniVersion")) {
        std::string version = BERTH_TRY(v->as_string());
        // 0.1.0/0.2.0 results (ip4/ip6 objects) are a different shape altogether.
        if (compare_versions(version, "0.3.0") < 0)
            return v->error() << "unsupported result version \"" << version << "\"";
    }
    BERTH_TRY(oci::json::read_array(root, "interfaces", r.interfaces, read_interface));
    const size_t n_interfaces = r.interfaces.size();
    BERTH_TRY(oci::json::read_array(
        root, "ips", r.ips, [&](const Node& n) { return read_ip_config(n, n_interfaces); }));
    BERTH_TRY(oci::json::read_array(root, "routes", r.routes, read_route));
    if (auto dns = root.member("dns")) {
        BERTH_TRY(dns->expect_object());
        BERTH_TRY(oci::json::read(*dns, "nameservers", r.dns.nameservers));
        BERTH_TRY(oci::json::read(*dns, "domain", r.dns.domain));
        BERTH_TRY(oci::json::read(*dns, "search", r.dns.search));
        BERTH_TRY(oci::json::read(*dns, "options", r.dns.options));
    }
    return r;
}

Result<CniResult> parse_result(std::string_view text) {
    Json j = BERTH_TRY(oci::json::parse_document(text, "result"));
    return parse_result(j);
}

}  // namespace berth::net::cni
