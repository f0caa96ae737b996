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

struct IpConfig {
    IpNet address;
    std::optional<IpAddr> gateway;
    std::optional<int> interface;  // index into the result's interfaces
};

struct RouteConfig {
    IpNet dst;
    std::optional<IpAddr> gw;
};

struct Dns {
    std::vector<std::string> nameservers;
    std::string domain;
    std::vector<std::string> search;
    std::vector<std::string> options;
    bool empty() const;
};

struct IpamResult {
    std::vector<IpConfig> ips;
    std::vector<RouteConfig> routes;
    Dns dns;
};

// The result JSON for cni_version: 0.3.x/0.4.0 tag each IP with "version"; 1.x does not.
Json result_to_json(const IpamResult& r, std::string_view cni_version);

}  // namespace berth::net::cni
