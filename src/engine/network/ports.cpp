#include "engine/network/ports.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "net/ip/addr.h"

namespace berth::engine::network {
namespace {

using Json = nlohmann::json;

struct PortRange {
    uint16_t first = 0, last = 0;
    size_t size() const { return size_t(last - first) + 1; }
};

Result<PortRange> parse_range(const std::string& spec, std::string_view text, bool allow_zero) {
    auto bad = [&] {
        return Error(EINVAL) << "-p `" << spec << "`: invalid port `" << text << "`";
    };
    size_t dash = text.find('-');
    auto first = parse_number<uint16_t>(text.substr(0, dash));
    if (!first || (*first == 0 && !allow_zero)) return bad();
    PortRange r{*first, *first};
    if (dash != std::string_view::npos) {
        auto last = parse_number<uint16_t>(text.substr(dash + 1));
        if (!last || *last < *first || *first == 0) return bad();
        r.last = *last;
    }
    return r;
}

// A free port of `protocol` on any address, as the kernel picks it for bind(port 0).
Result<uint16_t> free_port(const std::string& protocol) {
    int type = protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!fd) return ErrnoError() << "socket";
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        return ErrnoError() << "choosing a free " << protocol << " port";
    }
    socklen_t len = sizeof(a);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        return ErrnoError() << "getsockname";
    }
    return ntohs(a.sin_port);
}

}  // namespace

Result<std::vector<PortMapping>> parse_publish(const std::string& spec) {
    std::string rest = spec;
    std::string protocol = "tcp";
    if (size_t slash = rest.rfind('/'); slash != std::string::npos) {
        protocol = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (protocol != "tcp" && protocol != "udp" && protocol != "sctp") {
            return Error(EINVAL) << "-p `" << spec << "`: unknown protocol `" << protocol
                                 << "` (want tcp, udp or sctp)";
        }
    }
    std::string host_ip;
    // An IPv6 host address comes in brackets: [::1]:8080:80.
    if (!rest.empty() && rest.front() == '[') {
        size_t close = rest.find(']');
        if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            return Error(EINVAL) << "-p `" << spec << "`: invalid host address";
        }
        host_ip = rest.substr(1, close - 1);
        rest = rest.substr(close + 2);
    }
    std::vector<std::string> parts = split(rest, ':');
    if (parts.size() > 3 || (!host_ip.empty() && parts.size() > 2)) {
        return Error(EINVAL) << "-p `" << spec << "`: want [hostIP:][hostPort:]containerPort";
    }
    std::string host_ports;
    if (parts.size() == 3) {
        host_ip = parts[0];
        host_ports = parts[1];
    } else if (parts.size() == 2) {
        host_ports = parts[0];
    }
    if (!host_ip.empty()) {
        auto ip = net::IpAddr::parse(host_ip);
        if (!ip) return Error(EINVAL) << "-p `" << spec << "`: invalid host IP `" << host_ip << "`";
        host_ip = ip->str();
    }
    PortRange ctr = BERTH_TRY(parse_range(spec, parts.back(), false));
    PortRange host{0, 0};
    if (!host_ports.empty()) host = BERTH_TRY(parse_range(spec, host_ports, true));
    bool host_given = host.first != 0;
    if (host_given && host.size() != ctr.size() && !(host.size() == 1 && ctr.size() == 1)) {
        if (ctr.size() != 1) {
            return Error(EINVAL) << "-p `" << spec
                                 << "`: host and container port ranges differ in length";
        }
        // docker: one container port and a host range means any port of the range; take the
        // first.
        host.last = host.first;
    }
    std::vector<PortMapping> out;
    for (size_t i = 0; i < ctr.size(); ++i) {
        PortMapping m;
        m.host_ip = host_ip;
        m.protocol = protocol;
        m.container_port = uint16_t(ctr.first + i);
        m.host_port = host_given ? uint16_t(host.first + i) : 0;
        out.push_back(m);
    }
    return out;
}

Result<std::vector<PortMapping>> exposed_ports(const std::vector<std::string>& exposed) {
    std::vector<PortMapping> out;
    for (const auto& e : exposed) {
        auto ms = parse_publish(e);
        if (!ms.ok()) return Error(EINVAL) << "the image's ExposedPorts `" << e << "` is invalid";
        for (auto& m : *ms) out.push_back(m);
    }
    return out;
}

Result<void> assign_host_ports(std::vector<PortMapping>& mappings) {
    for (auto& m : mappings) {
        if (m.host_port == 0) m.host_port = BERTH_TRY(free_port(m.protocol));
    }
    return {};
}

Json port_mappings_json(const std::vector<PortMapping>& mappings) {
    Json out = Json::array();
    for (const auto& m : mappings) {
        Json j = {{"hostPort", m.host_port},
                  {"containerPort", m.container_port},
                  {"protocol", m.protocol}};
        if (!m.host_ip.empty()) j["hostIP"] = m.host_ip;
        out.push_back(j);
    }
    return out;
}

std::vector<PortMapping> mappings_from_json(const Json& j) {
    std::vector<PortMapping> out;
    if (!j.is_array()) return out;
    for (const auto& e : j) {
        PortMapping m;
        m.host_ip = e.value("hostIP", "");
        m.host_port = e.value("hostPort", uint16_t(0));
        m.container_port = e.value("containerPort", uint16_t(0));
        m.protocol = e.value("protocol", "tcp");
        out.push_back(m);
    }
    return out;
}

std::string format_port(const PortMapping& m) {
    std::string host = m.host_ip.empty() ? "0.0.0.0" : m.host_ip;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return std::to_string(m.container_port) + "/" + m.protocol + " -> " + host + ":" +
           std::to_string(m.host_port);
}

}  // namespace berth::engine::network
