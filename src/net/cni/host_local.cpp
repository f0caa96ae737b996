#include "net/cni/host_local.h"

#include "base/file.h"
#include "base/strings.h"
#include "net/ipam/disk_store.h"
#include "oci/json_reader.h"

namespace berth::net::cni {

namespace {

using oci::json::Node;

Result<IpAddr> parse_ip(const Node& n) {
    std::string s = BERTH_TRY(n.as_string());
    auto ip = IpAddr::parse(s);
    if (!ip) return n.error() << "invalid IP address \"" << s << "\"";
    return *ip;
}

// Addresses the runtime asks for may come with or without a prefix length.
Result<IpAddr> parse_requested(std::string_view s, const std::string& where) {
    auto net = IpNet::parse(s, /*allow_bare=*/true);
    if (!net) return Error(EINVAL) << where << ": invalid IP address \"" << s << "\"";
    return net->addr();
}

Result<ipam::Range> parse_range(const Node& n) {
    BERTH_TRY(n.expect_object());
    ipam::Range r;
    Node subnet = BERTH_TRY(oci::json::require(n, "subnet"));
    std::string s = BERTH_TRY(subnet.as_string());
    auto net = IpNet::parse(s);
    if (!net) return subnet.error() << net.error().message();
    r.subnet = *net;
    if (auto m = n.member("rangeStart")) r.range_start = BERTH_TRY(parse_ip(*m));
    if (auto m = n.member("rangeEnd")) r.range_end = BERTH_TRY(parse_ip(*m));
    if (auto m = n.member("gateway")) r.gateway = BERTH_TRY(parse_ip(*m));
    return r;
}

Result<std::vector<IpAddr>> parse_ip_list(const Node& n) {
    std::vector<IpAddr> out;
    for (const Node& e : BERTH_TRY(n.elements()))
        out.push_back(BERTH_TRY(parse_requested(BERTH_TRY(e.as_string()), e.path())));
    return out;
}

Result<std::unique_ptr<ipam::DiskStore>> open_store(const HostLocalConfig& conf) {
    auto store = BERTH_TRY(ipam::DiskStore::open(conf.data_dir, conf.name));
    return std::make_unique<ipam::DiskStore>(std::move(store));
}

Outcome load_failure(const Error& e) {
    return Outcome::fail(kInvalidNetworkConfig, e);
}

}  // namespace

Result<HostLocalConfig> parse_host_local_config(const Json& config, std::string_view cni_args) {
    HostLocalConfig c;
    Node root(config, "config");
    BERTH_TRY(root.expect_object());
    BERTH_TRY(oci::json::read(root, "cniVersion", c.cni_version));
    BERTH_TRY(oci::json::read_required(root, "name", c.name));
    Node ipam = BERTH_TRY(oci::json::require(root, "ipam"));
    BERTH_TRY(ipam.expect_object());

    // The single-range form (subnet, rangeStart...) comes first, then "ranges".
    if (oci::json::has(ipam, "subnet")) c.range_sets.push_back({BERTH_TRY(parse_range(ipam))});
    if (auto ranges = ipam.member("ranges")) {
        for (const Node& set : BERTH_TRY(ranges->elements())) {
            ipam::RangeSet rs;
            for (const Node& r : BERTH_TRY(set.elements())) rs.push_back(BERTH_TRY(parse_range(r)));
            c.range_sets.push_back(std::move(rs));
        }
    }
    if (c.range_sets.empty()) return Error(EINVAL) << "no IP ranges specified";
    for (size_t i = 0; i < c.range_sets.size(); i++) {
        if (auto r = ipam::canonicalize(c.range_sets[i]); !r)
            return std::move(r).error().wrap("invalid range set " + std::to_string(i));
        for (size_t j = 0; j < i; j++)
            for (const auto& a : c.range_sets[i])
                for (const auto& b : c.range_sets[j])
                    if (a.overlaps(b))
                        return Error(EINVAL) << "range set " << i << " overlaps with " << j;
    }
    BERTH_TRY(
        oci::json::read_array(ipam, "routes", c.routes, [](const Node& n) -> Result<RouteConfig> {
            BERTH_TRY(n.expect_object());
            RouteConfig rt;
            Node dst = BERTH_TRY(oci::json::require(n, "dst"));
            auto net = IpNet::parse(BERTH_TRY(dst.as_string()));
            if (!net) return dst.error() << net.error().message();
            rt.dst = *net;
            if (auto gw = n.member("gw")) rt.gw = BERTH_TRY(parse_ip(*gw));
            return rt;
        }));
    BERTH_TRY(oci::json::read(ipam, "dataDir", c.data_dir));
    BERTH_TRY(oci::json::read(ipam, "resolvConf", c.resolv_conf));

    // Requested addresses: CNI_ARGS, then args.cni.ips, then runtimeConfig.ips.
    bool ignore_unknown = false;
    std::vector<std::string> unknown;
    for (const auto& [k, v] : BERTH_TRY(parse_cni_args(cni_args))) {
        if (k == "IP") {
            for (const std::string& s : split(v, ','))
                c.requested.push_back(BERTH_TRY(parse_requested(trim(s), "CNI_ARGS IP")));
        } else if (k == "IgnoreUnknown") {
            ignore_unknown = v == "1" || v == "true" || v == "True";
        } else {
            unknown.push_back(k + "=" + v);
        }
    }
    if (!unknown.empty() && !ignore_unknown)
        return Error(EINVAL) << "ARGS: unknown args [\"" << unknown[0] << "\"]";
    if (auto args = root.member("args"))
        if (auto cni = args->member("cni"))
            if (auto ips = cni->member("ips"))
                for (const IpAddr& ip : BERTH_TRY(parse_ip_list(*ips))) c.requested.push_back(ip);
    if (auto rc = root.member("runtimeConfig"))
        if (auto ips = rc->member("ips"))
            for (const IpAddr& ip : BERTH_TRY(parse_ip_list(*ips))) c.requested.push_back(ip);

    if (auto valid = root.member("cni.dev/valid-attachments")) {
        for (const Node& a : BERTH_TRY(valid->elements())) {
            ipam::Attachment att;
            BERTH_TRY(oci::json::read_required(a, "containerID", att.container_id));
            BERTH_TRY(oci::json::read_required(a, "ifname", att.ifname));
            c.valid_attachments.push_back(std::move(att));
        }
    }
    return c;
}

Result<Dns> parse_resolv_conf(const std::string& path) {
    std::string text = BERTH_TRY(read_file(path));
    Dns dns;
    for (const std::string& raw : split(text, '\n')) {
        std::string_view line = trim(raw);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        std::vector<std::string> f;
        for (const std::string& w : split(line, ' '))
            if (!trim(w).empty()) f.emplace_back(trim(w));
        if (f.size() < 2) continue;
        if (f[0] == "nameserver")
            dns.nameservers.push_back(f[1]);
        else if (f[0] == "domain")
            dns.domain = f[1];
        else if (f[0] == "search")
            dns.search.assign(f.begin() + 1, f.end());
        else if (f[0] == "options")
            dns.options.insert(dns.options.end(), f.begin() + 1, f.end());
    }
    return dns;
}

Outcome host_local_add(const CmdArgs& args) {
    auto conf = parse_host_local_config(args.config, args.args);
    if (!conf) return load_failure(conf.error());
    IpamResult result;
    if (!conf->resolv_conf.empty()) {
        auto dns = parse_resolv_conf(conf->resolv_conf);
        if (!dns) return Outcome::fail(kIoFailure, dns.error());
        result.dns = std::move(dns).value();
    }
    auto store = open_store(*conf);
    if (!store) return Outcome::fail(kIoFailure, store.error());
    auto allocs = ipam::allocate_all(conf->range_sets, **store, args.container_id, args.ifname,
                                     conf->requested);
    if (!allocs) return Outcome::fail(kInternal, allocs.error());
    for (const auto& a : *allocs) result.ips.push_back({a.address, a.gateway, std::nullopt});
    result.routes = conf->routes;
    return Outcome::ok(result_to_json(result, args.cni_version).dump());
}

Outcome host_local_del(const CmdArgs& args) {
    auto conf = parse_host_local_config(args.config, args.args);
    if (!conf) return load_failure(conf.error());
    auto store = open_store(*conf);
    if (!store) return Outcome::fail(kIoFailure, store.error());
    if (auto r = ipam::release_all(**store, args.container_id, args.ifname); !r)
        return Outcome::fail(kIoFailure, r.error());
    return Outcome::ok();
}

Outcome host_local_check(const CmdArgs& args) {
    auto conf = parse_host_local_config(args.config, args.args);
    if (!conf) return load_failure(conf.error());
    auto store = open_store(*conf);
    if (!store) return Outcome::fail(kIoFailure, store.error());
    auto held = (*store)->get_by_id(args.container_id, args.ifname);
    if (!held) return Outcome::fail(kIoFailure, held.error());
    if (held->empty())
        return Outcome::fail(
            {kInternal,
             "host-local: Failed to find address added by container " + args.container_id, ""});
    return Outcome::ok();
}

Outcome host_local_gc(const CmdArgs& args) {
    auto conf = parse_host_local_config(args.config, args.args);
    if (!conf) return load_failure(conf.error());
    auto store = open_store(*conf);
    if (!store) return Outcome::fail(kIoFailure, store.error());
    auto released = ipam::garbage_collect(**store, conf->valid_attachments);
    if (!released) return Outcome::fail(kIoFailure, released.error());
    {
        auto lock = ipam::StoreLock::acquire(**store);
        if (lock) (void)(*store)->gc_temporaries();
    }
    return Outcome::ok();
}

Outcome host_local_status(const CmdArgs& args) {
    auto conf = parse_host_local_config(args.config, args.args);
    if (!conf) return load_failure(conf.error());
    // Ready when the store can be opened (the data directory exists or can be made).
    auto store = open_store(*conf);
    if (!store) return Outcome::fail(kPluginNotAvailable, store.error());
    return Outcome::ok();
}

}  // namespace berth::net::cni
