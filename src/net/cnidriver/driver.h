// The CNI driver the engine uses, as libcni is for Go runtimes (SPEC.md "Execution of Network
// Configurations"): runs a network configuration list's plugins in a chain, keeps each
// attachment's result in the cache (cache.h) for DEL and CHECK, and runs GC and STATUS.
//
// Every verb returns a cni::Outcome: the plugin's error JSON (with its spec code) travels
// unchanged, prefixed with which plugin failed; the driver's own failures use the spec's codes
// too (kInvalidEnvironment for bad runtime parameters, kIoFailure for the cache).
//
// Not thread-safe per attachment: the caller serializes verbs on one (network, container,
// ifname), as a runtime does for one container.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/cni/types.h"
#include "net/cnidriver/cache.h"
#include "net/cnidriver/config.h"

namespace berth::net::cnidriver {

// What one attachment's invocations share besides the configuration (libcni's RuntimeConf).
struct RuntimeConf {
    std::string container_id;
    std::string netns;  // CNI_NETNS; may be empty on DEL (the namespace is gone)
    std::string ifname;
    CniArgs args;  // CNI_ARGS as pairs, in order
    // Capability arguments by capability name ("portMappings", "ips", "mac", "bandwidth",
    // "dns", "ipRanges", "aliases", ...): each plugin's runtimeConfig gets those it declares.
    Json capability_args = Json::object();
};

// GC's `cni.dev/valid-attachments` entries.
struct Attachment {
    std::string container_id;
    std::string ifname;
    bool operator==(const Attachment&) const = default;
};

struct DriverOptions {
    std::vector<std::string> plugin_dirs;  // searched in order for each plugin's type
    std::string cache_dir = kDefaultCacheDir;
};

// "K1=V1;K2=V2" as CNI_ARGS carries the pairs.
std::string join_cni_args(const CniArgs& args);

// The configuration plugin `index` of `list` gets on stdin: its own object with the list's
// name and cniVersion, prevResult when given (null: none), and runtimeConfig holding the
// capability arguments the plugin declares true in "capabilities" (libcni's buildOneConfig).
Json plugin_config(const NetworkConfigList& list, size_t index, const Json& prev_result,
                   const RuntimeConf& rt);

// An error the engine can return as Result<T>: "<msg>: <details>" with the code, EIO.
Error outcome_error(const cni::CniError& e);

class CniDriver {
  public:
    explicit CniDriver(DriverOptions options);

    // ADD through the chain, each plugin getting the previous one's result; the last result is
    // cached and returned (Outcome::output, JSON). When plugin i fails, plugins i..0 get DEL
    // (best effort, newest first, with the result plugin i was given) and the first error is
    // returned.
    cni::Outcome add(const NetworkConfigList& list, const RuntimeConf& rt);
    // DEL through the chain in reverse with the cached result as prevResult (none when the
    // cache has no entry). CNI_ARGS and capability arguments the caller leaves empty come from
    // the cache. Every plugin is asked even when one fails; the first error is returned and the
    // cache entry kept for a retry; on success the entry goes.
    cni::Outcome del(const NetworkConfigList& list, const RuntimeConf& rt);
    // CHECK (spec >= 0.4.0; disableCheck: success without running anything) with the cached
    // result; kUnknownContainer when nothing is cached for the attachment.
    cni::Outcome check(const NetworkConfigList& list, const RuntimeConf& rt);
    // GC: first DEL for each cached attachment of this network that is not in `valid` (with
    // the args it was added with), then, for spec >= 1.1.0, GC to every plugin with
    // cni.dev/valid-attachments. disableGC: nothing. Errors are collected; the first returned.
    cni::Outcome gc(const NetworkConfigList& list, const std::vector<Attachment>& valid);
    // STATUS to every plugin in order (spec >= 1.1.0; older lists are always ready); the first
    // plugin that is not ready is the error.
    cni::Outcome status(const NetworkConfigList& list);

    // The cached result of the attachment: null JSON when nothing is cached.
    Result<Json> cached_result(const NetworkConfigList& list, const RuntimeConf& rt) const;
    // Cached attachments of every network (or of one container): what a runtime GCs against.
    Result<std::vector<CachedAttachment>> cached_attachments(
        std::string_view container_id = {}) const;

    const DriverOptions& options() const { return options_; }

  private:
    cni::Outcome run(const NetworkConfigList& list, size_t index, const std::string& command,
                     const Json& config, const RuntimeConf& rt) const;
    cni::Outcome del_chain(const NetworkConfigList& list, size_t last, const Json& prev_result,
                           const RuntimeConf& rt) const;

    DriverOptions options_;
    std::string search_path_;  // plugin_dirs joined with ':' (CNI_PATH)
};

}  // namespace berth::net::cnidriver
