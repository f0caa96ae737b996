#include "engine/network/network_store.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/file.h>

#include <algorithm>
#include <set>

#include "base/clock.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "net/cnidriver/config.h"
#include "net/ip/addr.h"

namespace berth::engine::network {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr const char kSuffix[] = ".conflist";

Result<std::string> random_bytes(size_t n) {
    std::string out(n, '\0');
    UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    if (!fd) return ErrnoError() << "open /dev/urandom";
    if (::read(fd.get(), out.data(), n) != ssize_t(n)) return ErrnoError() << "read /dev/urandom";
    return out;
}

Result<std::string> random_hex(size_t bytes) {
    std::string raw = BERTH_TRY(random_bytes(bytes));
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

// A unique local /64 (RFC 4193): fd00::/8, a random 40-bit global ID, subnet 0.
Result<net::IpNet> random_ula() {
    std::string r = BERTH_TRY(random_bytes(5));
    uint8_t b[16] = {0xfd};
    std::copy(r.begin(), r.end(), b + 1);
    return net::IpNet(*net::IpAddr::from_bytes(b, 16), 64);
}

std::string first_host(const net::IpNet& n) {
    return n.network().next().str();
}

// Holds an exclusive lock on <dir>/.lock while choosing names and subnets.
Result<UniqueFd> lock_dir(const std::string& dir) {
    BERTH_TRY(mkdir_p(dir, 0755));
    std::string path = path_join(dir, ".lock");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return ErrnoError() << "open `" << path << "`";
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) return ErrnoError() << "flock `" << path << "`";
    }
    return fd;
}

// The addresses of this network namespace's interfaces: a new subnet must not hold them.
std::vector<net::IpNet> host_networks() {
    std::vector<net::IpNet> out;
    struct ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (auto* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || !i->ifa_netmask) continue;
        int fam = i->ifa_addr->sa_family;
        if (fam != AF_INET && fam != AF_INET6) continue;
        const void* a =
            fam == AF_INET
                ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr)
                : &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
        const uint8_t* m = fam == AF_INET
                               ? reinterpret_cast<const uint8_t*>(
                                     &reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr)
                               : reinterpret_cast<const uint8_t*>(
                                     &reinterpret_cast<sockaddr_in6*>(i->ifa_netmask)->sin6_addr);
        size_t size = fam == AF_INET ? 4 : 16;
        int prefix = 0;
        for (size_t k = 0; k < size; ++k) prefix += __builtin_popcount(m[k]);
        if (auto addr = net::IpAddr::from_bytes(a, size)) out.emplace_back(*addr, prefix);
    }
    ::freeifaddrs(list);
    return out;
}

OJson build_conflist(const NetworkInfo& n) {
    OJson ranges = OJson::array();
    for (const auto& s : n.subnets) {
        OJson r = {{"subnet", s.subnet}};
        if (!s.gateway.empty()) r["gateway"] = s.gateway;
        ranges.push_back(OJson::array({r}));
    }
    OJson ipam = {{"type", "berth-host-local"}, {"ranges", ranges}};
    if (!n.internal) {
        // Internal networks get no default route: nothing leaves the subnet.
        OJson routes = OJson::array();
        bool v4 = false, v6 = false;
        for (const auto& s : n.subnets) {
            (s.subnet.find(':') == std::string::npos ? v4 : v6) = true;
        }
        if (v4) routes.push_back({{"dst", "0.0.0.0/0"}});
        if (v6) routes.push_back({{"dst", "::/0"}});
        ipam["routes"] = routes;
    }
    OJson bridge = {{"type", "berth-bridge"},
                    {"bridge", n.bridge},
                    {"isGateway", true},
                    {"ipMasq", !n.internal},
                    {"hairpinMode", true}};
    if (n.mtu) bridge["mtu"] = *n.mtu;
    bridge["capabilities"] = {{"ips", true}, {"mac", true}};
    bridge["ipam"] = ipam;
    OJson portmap = {
        {"type", "berth-portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}};
    OJson list;
    list["cniVersion"] = "1.0.0";
    list["cniVersions"] = {"1.0.0", "1.1.0"};
    list["name"] = n.name;
    list["plugins"] = OJson::array({bridge, portmap});
    list["args"] = {{"berth",
                     {{"id", n.id},
                      {"created", n.created},
                      {"driver", n.driver},
                      {"internal", n.internal},
                      {"ipv6", n.ipv6}}}};
    if (n.dns_enabled) list["args"]["berth"]["dns_enabled"] = true;
    if (!n.dns_servers.empty()) list["args"]["berth"]["dns_servers"] = n.dns_servers;
    return list;
}

}  // namespace

std::string networks_dir(const std::string& root) {
    return path_join(root, "networks");
}

Result<NetworkInfo> parse_network(const std::string& bytes, const std::string& file) {
    Json j = Json::parse(bytes, nullptr, false);
    if (!j.is_object()) return Error(EINVAL) << "`" << file << "`: not a JSON object";
    NetworkInfo n;
    n.file = file;
    n.conflist = bytes;
    try {
        n.name = j.value("name", "");
        const Json& meta = j.value("/args/berth"_json_pointer, Json::object());
        n.id = meta.value("id", "");
        n.created = meta.value("created", "");
        n.driver = meta.value("driver", "bridge");
        n.internal = meta.value("internal", false);
        n.ipv6 = meta.value("ipv6", false);
        n.dns_enabled = meta.value("dns_enabled", false);
        n.dns_servers = meta.value("dns_servers", std::vector<std::string>{});
        for (const auto& p : j.value("plugins", Json::array())) {
            std::string type = p.value("type", "");
            if (type != "berth-bridge" && type != "bridge") continue;
            n.bridge = p.value("bridge", "cni0");
            if (p.contains("mtu") && p["mtu"].is_number_integer()) n.mtu = p["mtu"].get<int>();
            for (const auto& set : p.value("/ipam/ranges"_json_pointer, Json::array())) {
                for (const auto& r : set) {
                    n.subnets.push_back({r.value("subnet", ""), r.value("gateway", "")});
                    if (r.value("subnet", "").find(':') != std::string::npos) n.ipv6 = true;
                }
            }
        }
    } catch (const std::exception& e) {
        return Error(EINVAL) << "`" << file << "`: " << e.what();
    }
    if (n.name.empty()) return Error(EINVAL) << "`" << file << "`: name: missing";
    return n;
}

OJson network_json(const NetworkInfo& n) {
    OJson subnets = OJson::array();
    for (const auto& s : n.subnets) {
        OJson o = {{"subnet", s.subnet}};
        if (!s.gateway.empty()) o["gateway"] = s.gateway;
        subnets.push_back(o);
    }
    OJson options = OJson::object();
    if (n.mtu) options["mtu"] = std::to_string(*n.mtu);
    OJson out = {{"name", n.name},
                 {"id", n.id},
                 {"driver", n.driver},
                 {"network_interface", n.bridge},
                 {"created", n.created},
                 {"subnets", subnets},
                 {"ipv6_enabled", n.ipv6},
                 {"internal", n.internal},
                 {"dns_enabled", n.dns_enabled},
                 {"options", options},
                 {"ipam_options", {{"driver", "host-local"}}},
                 {"config_file", n.file}};
    if (!n.dns_servers.empty()) out["network_dns_servers"] = n.dns_servers;
    return out;
}

Result<std::vector<NetworkInfo>> NetworkStore::load_all() const {
    std::vector<NetworkInfo> out;
    if (!is_directory(dir_)) return out;
    for (const auto& file : BERTH_TRY(net::cnidriver::config_files(dir_))) {
        if (!file.ends_with(kSuffix)) continue;
        std::string bytes = BERTH_TRY(read_file(file));
        out.push_back(BERTH_TRY(parse_network(bytes, file)));
    }
    return out;
}

Result<NetworkInfo> NetworkStore::write_new(const CreateNetworkOptions& o) {
    if (!net::cnidriver::valid_network_name(o.name)) {
        return Error(EINVAL) << "network name `" << o.name
                             << "` invalid: want [a-zA-Z0-9][a-zA-Z0-9_.-]*";
    }
    if (o.driver != "bridge") {
        return Error(EINVAL) << "--driver `" << o.driver << "`: only bridge is supported";
    }
    auto existing = BERTH_TRY(load_all());
    for (const auto& e : existing) {
        if (e.name == o.name) return Error(EEXIST) << "network name " << o.name << " already used";
    }
    NetworkInfo n;
    n.name = o.name;
    n.driver = o.driver;
    n.internal = o.internal;
    n.ipv6 = o.ipv6;
    n.created = now_rfc3339();
    n.id = BERTH_TRY(random_hex(32));
    n.dns_enabled = !o.disable_dns;
    for (const auto& d : o.dns_servers) {
        auto ip = net::IpAddr::parse(d);
        if (!ip) return Error(EINVAL) << "--dns `" << d << "`: not an IP address";
        n.dns_servers.push_back(ip->str());
    }
    if (o.disable_dns && !o.dns_servers.empty()) {
        return Error(EINVAL) << "--dns: the network has no DNS (--disable-dns)";
    }
    for (const auto& opt : o.opts) {
        size_t eq = opt.find('=');
        std::string key = opt.substr(0, eq);
        std::string value = eq == std::string::npos ? "" : opt.substr(eq + 1);
        if (key == "mtu") {
            auto mtu = parse_number<int>(value);
            if (!mtu || *mtu < 68 || *mtu > 65535) {
                return Error(EINVAL) << "--opt `" << opt << "`: want mtu=68..65535";
            }
            n.mtu = *mtu;
        } else {
            return Error(EINVAL) << "--opt `" << opt << "`: unsupported (want mtu=N)";
        }
    }

    auto overlap = [&](const net::IpNet& s) -> const NetworkInfo* {
        for (const auto& e : existing) {
            for (const auto& es : e.subnets) {
                auto p = net::IpNet::parse(es.subnet);
                if (p.ok() && p->overlaps(s)) return &e;
            }
        }
        return nullptr;
    };
    std::vector<net::IpNet> wanted;
    for (const auto& text : o.subnets) {
        auto p = net::IpNet::parse(text);
        if (!p.ok()) return Error(EINVAL) << "--subnet `" << text << "`: " << p.error().what();
        net::IpNet s = p->masked();
        if (s.prefix_len() > s.max_prefix_len() - 2) {
            return Error(EINVAL) << "--subnet `" << text << "`: too small";
        }
        if (const NetworkInfo* e = overlap(s)) {
            return Error(EINVAL) << "--subnet `" << text << "`: overlaps the subnet of network "
                                 << e->name;
        }
        for (const auto& w : wanted) {
            if (w.overlaps(s)) return Error(EINVAL) << "--subnet `" << text << "`: given twice";
        }
        if (!s.addr().is_v4()) n.ipv6 = true;
        wanted.push_back(s);
    }
    bool have_v4 =
        std::any_of(wanted.begin(), wanted.end(), [](auto& s) { return s.addr().is_v4(); });
    if (!have_v4 && (o.subnets.empty() || o.ipv6)) {
        // The first free 10.89.N.0/24 that no network and no local address uses (podman's).
        std::vector<net::IpNet> local = host_networks();
        bool found = false;
        for (int i = 0; i < 256 && !found; ++i) {
            net::IpNet s(net::IpAddr::v4(10, 89, uint8_t(i), 0), 24);
            if (overlap(s)) continue;
            if (std::any_of(local.begin(), local.end(), [&](auto& l) { return s.overlaps(l); })) {
                continue;
            }
            wanted.insert(wanted.begin(), s);
            found = true;
        }
        if (!found) return Error(ENOSPC) << "no free subnet left in 10.89.0.0/16: give --subnet";
    }
    bool have_v6 =
        std::any_of(wanted.begin(), wanted.end(), [](auto& s) { return !s.addr().is_v4(); });
    if (n.ipv6 && !have_v6) wanted.push_back(BERTH_TRY(random_ula()));
    for (size_t i = 0; i < wanted.size(); ++i)
        n.subnets.push_back({wanted[i].str(), first_host(wanted[i])});
    if (!o.gateway.empty()) {
        auto gw = net::IpAddr::parse(o.gateway);
        if (!gw) return Error(EINVAL) << "--gateway `" << o.gateway << "`: not an IP address";
        bool placed = false;
        for (size_t i = 0; i < wanted.size() && !placed; ++i) {
            if (wanted[i].contains(*gw)) {
                n.subnets[i].gateway = gw->str();
                placed = true;
            }
        }
        if (!placed) {
            return Error(EINVAL) << "--gateway `" << o.gateway << "`: not in any subnet";
        }
    }

    std::set<std::string> bridges;
    for (const auto& e : existing) bridges.insert(e.bridge);
    for (int i = 1;; ++i) {
        std::string b = "berth" + std::to_string(i);
        if (bridges.count(b) || ::if_nametoindex(b.c_str()) != 0) continue;
        n.bridge = b;
        break;
    }
    n.file = path_join(dir_, n.name + kSuffix);
    n.conflist = build_conflist(n).dump(2) + "\n";
    BERTH_TRY(write_file_atomic(n.file, n.conflist, 0644));
    return n;
}

Result<NetworkInfo> NetworkStore::create(const CreateNetworkOptions& options) {
    auto lock = BERTH_TRY(lock_dir(dir_));
    if (options.name == "bridge" || options.name == "host" || options.name == "none" ||
        options.name == kDefaultNetwork) {
        return Error(EEXIST) << "network name " << options.name << " already used";
    }
    return write_new(options);
}

Result<NetworkInfo> NetworkStore::get(const std::string& name_in) {
    std::string name = name_in == "bridge" ? kDefaultNetwork : name_in;
    std::string file = path_join(dir_, name + kSuffix);
    if (net::cnidriver::valid_network_name(name) && path_exists(file)) {
        return parse_network(BERTH_TRY(read_file(file)), file);
    }
    if (name != kDefaultNetwork) {
        return Error(ENOENT) << "unable to find network with name or ID " << name_in
                             << ": network not found";
    }
    auto lock = BERTH_TRY(lock_dir(dir_));
    if (path_exists(file)) return parse_network(BERTH_TRY(read_file(file)), file);
    NetworkInfo n;
    n.name = kDefaultNetwork;
    n.bridge = kDefaultBridge;
    n.ipv6 = true;
    n.created = now_rfc3339();
    n.id = BERTH_TRY(random_hex(32));
    net::IpNet v4(net::IpAddr::v4(10, 88, 0, 0), 16);
    net::IpNet v6 = BERTH_TRY(random_ula());
    n.subnets = {{v4.str(), first_host(v4)}, {v6.str(), first_host(v6)}};
    n.file = file;
    n.conflist = build_conflist(n).dump(2) + "\n";
    BERTH_TRY(write_file_atomic(file, n.conflist, 0644));
    return n;
}

Result<std::vector<NetworkInfo>> NetworkStore::list() {
    BERTH_TRY(get(kDefaultNetwork));
    return load_all();
}

Result<void> NetworkStore::remove(const std::string& name) {
    auto n = BERTH_TRY(get(name));
    if (::unlink(n.file.c_str()) != 0 && errno != ENOENT) {
        return ErrnoError() << "removing `" << n.file << "`";
    }
    return {};
}

}  // namespace berth::engine::network
