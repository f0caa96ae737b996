// berth-host-local: the host-local IPAM plugin's configuration and verbs, on top of
// net/ipam (allocator + disk store). Compatible with the reference plugin's configuration and
// its files under dataDir, so either plugin can take over the other's state.
#pragma once

#include <string>
#include <vector>

#include "net/cni/skel.h"
#include "net/ipam/allocator.h"
#include "net/ipam/range.h"

namespace berth::net::cni {

struct HostLocalConfig {
    std::string name;  // the network's name: the directory under data_dir
    std::string cni_version;
    std::vector<ipam::RangeSet> range_sets;  // canonicalized, pairwise disjoint
    std::vector<RouteConfig> routes;
    std::string data_dir = "/var/lib/cni/networks";
    std::string resolv_conf;
    // From CNI_ARGS IP=, args.cni.ips and runtimeConfig.ips, in that order.
    std::vector<IpAddr> requested;
    std::vector<ipam::Attachment> valid_attachments;  // GC: cni.dev/valid-attachments
};

// Parses the network configuration and CNI_ARGS; errors are EINVAL with the field named.
Result<HostLocalConfig> parse_host_local_config(const Json& config, std::string_view cni_args);

Outcome host_local_add(const CmdArgs& args);
Outcome host_local_del(const CmdArgs& args);
Outcome host_local_check(const CmdArgs& args);
Outcome host_local_gc(const CmdArgs& args);
Outcome host_local_status(const CmdArgs& args);

// Nameservers, domain, search and options of a resolv.conf.
Result<Dns> parse_resolv_conf(const std::string& path);

}  // namespace berth::net::cni
