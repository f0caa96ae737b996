// CNI spec types shared by berth's plugins: the versions we speak, the spec's error codes and
// error JSON, and IPAM results printed in the shape each spec version expects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "net/ip/addr.h"

namespace berth::net::cni {

using Json = nlohmann::json;

// Oldest first; the last is the newest.
const std::vector<std::string>& supported_versions();
bool version_supported(std::string_view v);
// Numeric comparison of "a.b.c" versions; unparsable parts count as 0.
int compare_versions(std::string_view a, std::string_view b);

// The spec's well-known error codes (SPEC.md "Error").
enum ErrorCode : uint32_t {
    kIncompatibleVersion = 1,
    kUnsupportedField = 2,
    kUnknownContainer = 3,
    kInvalidEnvironment = 4,
    kIoFailure = 5,
    kDecodeFailure = 6,
    kInvalidNetworkConfig = 7,
    kTryAgainLater = 11,
    kPluginNotAvailable = 50,
    kLimitedConnectivity = 51,
    kInternal = 999,  // what the reference plugins report for errors without a code
};

struct CniError {
    uint32_t code = kInternal;
    std::string msg;
    std::string details;

    static CniError from(uint32_t code, const Error& e) { return {code, e.what(), {}}; }
    Json to_json(std::string_view cni_version) const;
};

// What a verb produced: JSON for stdout (empty: print nothing) or an error.
struct Outcome {
    std::string output;
    std::optional<CniError> error;

    static Outcome ok(std::string output = {}) { return {std::move(output), std::nullopt}; }
    static Outcome fail(CniError e) { return {{}, std::move(e)}; }
    static Outcome fail(uint32_t code, const Error& e) { return fail(CniError::from(code, e)); }
};

struct Interface {
    std::string name;
    std::string mac;      // "aa:bb:cc:dd:ee:ff"; empty when unknown
    std::string sandbox;  // the netns path for interfaces inside the container; empty on the host
    std::optional<uint32_t> mtu;  // printed from 1.1.0 on
    std::string socket_path;      // 1.1.0 "socketPath"
    std::string pci_id;           // 1.1.0 "pciID"
};

struct IpConfig {
    IpNet address;
    std::optional<IpAddr> gateway;
    std::optional<int> interface;  // index into the result's interfaces
};

struct RouteConfig {
    IpNet dst;
    std::optional<IpAddr> gw;
    // The 1.1.0 route attributes; printed only for 1.1.0 and later.
    std::optional<uint32_t> mtu;
    std::optional<uint32_t> advmss;
    std::optional<uint32_t> priority;
    std::optional<uint32_t> table;
    std::optional<uint8_t> scope;
};

struct Dns {
    std::vector<std::string> nameservers;
    std::string domain;
    std::vector<std::string> search;
    std::vector<std::string> options;
    bool empty() const;
};

// A plugin's full result (SPEC.md "Success"): what an interface plugin prints and what a chained
// plugin gets as prevResult. An IPAM plugin's result is the same with no interfaces.
struct CniResult {
    std::vector<Interface> interfaces;
    std::vector<IpConfig> ips;
    std::vector<RouteConfig> routes;
    Dns dns;
};
using IpamResult = CniResult;

// The result JSON for cni_version: 0.3.x/0.4.0 tag each IP with "version"; 1.x does not. Fields
// a version does not know (1.1.0's interface mtu, socketPath, pciID and route attributes) are left
// out for older versions.
Json result_to_json(const CniResult& r, std::string_view cni_version);

// Reads a result of any version from 0.3.0 to 1.1.0 (prevResult, a cached result, a delegated
// plugin's output). EINVAL naming the field ("ips[0].address: ...") when it is malformed: an
// interface index out of range, an IP "version" that disagrees with its address, a bad address.
Result<CniResult> parse_result(const Json& j);
// The same from text (a delegated plugin's stdout).
Result<CniResult> parse_result(std::string_view text);

}  // namespace berth::net::cni
