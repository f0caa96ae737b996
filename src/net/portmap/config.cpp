#include "net/portmap/config.h"

#include <cctype>
#include <cerrno>

namespace berth::net::portmap {

const char* protocol_name(Protocol p) {
    switch (p) {
        case Protocol::kTcp:
            return "tcp";
        case Protocol::kUdp:
            return "udp";
        case Protocol::kSctp:
            return "sctp";
    }
    return "tcp";
}

namespace {

Result<uint16_t> port_of(const Json& m, const char* field) {
    auto it = m.find(field);
    if (it == m.end() || !it->is_number_integer())
        return Error(EINVAL) << "portMappings: " << field << " must be a number";
    const int64_t v = it->get<int64_t>();
    if (v < 1 || v > 65535) return Error(EINVAL) << "portMappings: invalid " << field << " " << v;
    return static_cast<uint16_t>(v);
}

Result<PortMapping> parse_mapping(const Json& m) {
    if (!m.is_object()) return Error(EINVAL) << "portMappings: entries must be objects";
    PortMapping pm;
    pm.host_port = BERTH_TRY(port_of(m, "hostPort"));
    pm.container_port = BERTH_TRY(port_of(m, "containerPort"));
    if (auto p = m.find("protocol"); p != m.end() && !p->is_null()) {
        if (!p->is_string()) return Error(EINVAL) << "portMappings: protocol must be a string";
        std::string proto = p->get<std::string>();
        for (char& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (proto == "tcp" || proto.empty()) {
            pm.protocol = Protocol::kTcp;
        } else if (proto == "udp") {
            pm.protocol = Protocol::kUdp;
        } else if (proto == "sctp") {
            pm.protocol = Protocol::kSctp;
        } else {
            return Error(EINVAL) << "portMappings: unknown protocol \"" << proto << "\"";
        }
    }
    if (auto h = m.find("hostIP"); h != m.end() && !h->is_null()) {
        if (!h->is_string()) return Error(EINVAL) << "portMappings: hostIP must be a string";
        const std::string text = h->get<std::string>();
        if (!text.empty()) {
            pm.host_ip = IpAddr::parse(text);
            if (!pm.host_ip)
                return Error(EINVAL) << "portMappings: invalid hostIP \"" << text << "\"";
        }
    }
    return pm;
}

Result<void> parse_prev_result(const Json& prev, PortmapConfig& c) {
    if (!prev.is_object()) return Error(EINVAL) << "prevResult must be an object";
    c.has_prev_result = true;
    c.prev_result = prev;
    // Which interfaces are in the container (have a sandbox) and which are on the host.
    std::vector<bool> in_sandbox;
    if (auto ifs = prev.find("interfaces"); ifs != prev.end() && ifs->is_array()) {
        for (const Json& i : *ifs) {
            const bool sandboxed = i.is_object() && i.contains("sandbox") &&
                                   i["sandbox"].is_string() &&
                                   !i["sandbox"].get<std::string>().empty();
            in_sandbox.push_back(sandboxed);
            if (!sandboxed && i.is_object() && i.contains("name") && i["name"].is_string())
                c.host_interfaces.push_back(i["name"].get<std::string>());
        }
    }
    std::optional<IpNet> any_v4, any_v6;
    if (auto ips = prev.find("ips"); ips != prev.end() && ips->is_array()) {
        for (const Json& ip : *ips) {
            if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string())
                return Error(EINVAL) << "prevResult: ips entries need an address";
            auto net = IpNet::parse(ip["address"].get<std::string>());
            if (!net) return std::move(net).error().wrap("prevResult: ips");
            bool sandboxed = false;
            if (auto idx = ip.find("interface"); idx != ip.end() && idx->is_number_integer()) {
                const int64_t i = idx->get<int64_t>();
                sandboxed = i >= 0 && static_cast<size_t>(i) < in_sandbox.size() && in_sandbox[i];
            }
            auto& first = net->addr().is_v4() ? c.container_v4 : c.container_v6;
            auto& any = net->addr().is_v4() ? any_v4 : any_v6;
            if (sandboxed && !first) first = *net;
            if (!any) any = *net;
        }
    }
    if (!c.container_v4) c.container_v4 = any_v4;
    if (!c.container_v6) c.container_v6 = any_v6;
    return {};
}

Result<void> parse_valid_attachments(const Json& list, PortmapConfig& c) {
    if (!list.is_array()) return Error(EINVAL) << "cni.dev/valid-attachments must be an array";
    for (const Json& a : list) {
        if (!a.is_object() || !a.contains("containerID") || !a["containerID"].is_string() ||
            !a.contains("ifname") || !a["ifname"].is_string())
            return Error(EINVAL)
                   << "cni.dev/valid-attachments: entries need containerID and ifname strings";
        c.valid_attachments.push_back(
            {a["containerID"].get<std::string>(), a["ifname"].get<std::string>()});
    }
    return {};
}

bool non_empty_array(const Json& config, const char* field) {
    auto it = config.find(field);
    return it != config.end() && it->is_array() && !it->empty();
}

}  // namespace

Result<PortmapConfig> parse_config(const Json& config) {
    PortmapConfig c;
    if (!config.is_object()) return Error(EINVAL) << "configuration must be an object";
    if (!config.contains("name") || !config["name"].is_string() ||
        config["name"].get<std::string>().empty())
        return Error(EINVAL) << "name: missing or not a string";
    c.network = config["name"].get<std::string>();
    c.cni_version = config.value("cniVersion", "");
    if (auto s = config.find("snat"); s != config.end() && !s->is_null()) {
        if (!s->is_boolean()) return Error(EINVAL) << "snat must be a boolean";
        c.snat = s->get<bool>();
    }
    if (auto m = config.find("markMasqBit"); m != config.end() && !m->is_null()) {
        if (!m->is_number_integer() || m->get<int64_t>() < 0 || m->get<int64_t>() > 31)
            return Error(EINVAL) << "markMasqBit must be between 0 and 31";
        c.mark_masq_bit = m->get<int>();
    }
    if (auto e = config.find("externalSetMarkChain"); e != config.end() && !e->is_null()) {
        if (!e->is_string()) return Error(EINVAL) << "externalSetMarkChain must be a string";
        c.external_set_mark_chain = e->get<std::string>();
    }
    if (c.mark_masq_bit && !c.external_set_mark_chain.empty())
        return Error(EINVAL) << "cannot specify externalSetMarkChain and markMasqBit";
    for (const char* field : {"conditionsV4", "conditionsV6"})
        if (non_empty_array(config, field))
            return Error(ENOTSUP) << field << " (iptables match conditions) is not supported";
    if (auto rc = config.find("runtimeConfig"); rc != config.end() && rc->is_object()) {
        if (auto pms = rc->find("portMappings"); pms != rc->end() && !pms->is_null()) {
            if (!pms->is_array()) return Error(EINVAL) << "portMappings must be an array";
            c.mappings_given = true;
            for (const Json& m : *pms) c.mappings.push_back(BERTH_TRY(parse_mapping(m)));
        }
    }
    if (auto prev = config.find("prevResult"); prev != config.end() && !prev->is_null())
        BERTH_TRY(parse_prev_result(*prev, c));
    if (auto va = config.find("cni.dev/valid-attachments"); va != config.end())
        BERTH_TRY(parse_valid_attachments(*va, c));
    return c;
}

}  // namespace berth::net::portmap
