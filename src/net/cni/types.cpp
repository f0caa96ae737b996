#include "net/cni/types.h"

#include "base/strings.h"

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

Json result_to_json(const IpamResult& r, std::string_view cni_version) {
    const bool tag_version = compare_versions(cni_version, "1.0.0") < 0;
    Json j = Json::object();
    j["cniVersion"] = std::string(cni_version);
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

}  // namespace berth::net::cni
