// The engine's networks: one standard CNI configuration list per network at
// <root>/networks/<name>.conflist, so any CNI tool (cnitool, libcni) can run it. The chain is
// berth-bridge (with berth-host-local in-process as IPAM) and berth-portmap. What CNI has no field
// for (id, creation time, internal, DNS) travels in the list's top-level "args" object, where
// podman keeps its own labels and libcni ignores it.
//
// The default network `berth` (bridge berth0, 10.88.0.0/16 and a random IPv6 ULA /64, masquerade)
// is written on first use. Networks created by name get the first free bridge name (berth1, ...)
// and, unless given, the first free 10.89.N.0/24; overlapping subnets are refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace berth::engine::network {

inline constexpr const char kDefaultNetwork[] = "berth";
inline constexpr const char kDefaultBridge[] = "berth0";

struct Subnet {
    std::string subnet;   // canonical "10.89.0.0/24"
    std::string gateway;  // "10.89.0.1"
};

struct NetworkInfo {
    std::string name;
    std::string id;  // 64 hex digits
    std::string driver = "bridge";
    std::string bridge;
    std::string created;  // RFC 3339
    std::vector<Subnet> subnets;
    bool ipv6 = false;
    bool internal = false;
    std::optional<int> mtu;
    bool dns_enabled = false;              // a berth-dns responder (dns_service.h)
    std::vector<std::string> dns_servers;  // --dns: its upstreams (else the host's resolv.conf)
    std::string file;                      // the .conflist's path
    std::string conflist;                  // its bytes
};

struct CreateNetworkOptions {
    std::string name;
    std::string driver = "bridge";
    std::vector<std::string> subnets;  // CIDRs; IPv6 ones imply --ipv6
    std::string gateway;               // for the first IPv4 subnet (or the first subnet)
    bool ipv6 = false;
    bool internal = false;
    std::vector<std::string> opts;         // -o mtu=N
    bool disable_dns = false;              // --disable-dns
    std::vector<std::string> dns_servers;  // --dns
};

// <root>/networks
std::string networks_dir(const std::string& root);

class NetworkStore {
  public:
    explicit NetworkStore(std::string root) : dir_(networks_dir(root)) {}

    // EEXIST when the name is taken, EINVAL naming the flag for bad options or an overlap.
    Result<NetworkInfo> create(const CreateNetworkOptions& options);
    // The network by name; the default one ("berth", also "bridge") is created when missing.
    // ENOENT "network not found" otherwise.
    Result<NetworkInfo> get(const std::string& name);
    // Every network, by name, the default one included.
    Result<std::vector<NetworkInfo>> list();
    // Removes the conflist (the default network too: it comes back on next use).
    Result<void> remove(const std::string& name);

    const std::string& dir() const { return dir_; }

  private:
    Result<std::vector<NetworkInfo>> load_all() const;
    Result<NetworkInfo> write_new(const CreateNetworkOptions& options);

    std::string dir_;
};

// A network read back from its conflist (what `inspect` shows).
Result<NetworkInfo> parse_network(const std::string& bytes, const std::string& file);
// podman's `network inspect` shape (name, id, driver, network_interface, subnets, ...).
nlohmann::ordered_json network_json(const NetworkInfo& n);

}  // namespace berth::engine::network
