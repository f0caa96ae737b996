// The result cache, in libcni's layout so either can read what the other wrote:
// <cache_dir>/results/<network>-<containerID>-<ifname> holds one JSON object per attachment,
//   {"kind": "cniCacheV1", "containerId", "ifName", "networkName", "netns",
//    "config": base64 of the network configuration list's bytes,
//    "cniArgs": [["K","V"],...], "capabilityArgs": {...}, "result": {...}}
// DEL and CHECK take prevResult from it, GC learns from it which attachments exist.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/cni/types.h"

namespace berth::net::cnidriver {

using cni::Json;

inline constexpr const char* kDefaultCacheDir = "/var/lib/cni";
inline constexpr const char* kCacheKind = "cniCacheV1";

using CniArgs = std::vector<std::pair<std::string, std::string>>;

struct CachedAttachment {
    std::string container_id;
    std::string ifname;
    std::string network_name;
    std::string netns;
    std::string config;  // the network configuration list's bytes (decoded)
    CniArgs cni_args;
    Json capability_args = Json::object();
    Json result;  // null when the file holds none
};

// <cache_dir>/results/<network>-<container_id>-<ifname>. The parts must already be valid
// (config.h's valid_* functions): they are joined as they are.
std::string cache_file_path(std::string_view cache_dir, std::string_view network,
                            std::string_view container_id, std::string_view ifname);

// Writes the attachment's file atomically (0600, directories 0700 as libcni makes them).
Result<void> write_cached(std::string_view cache_dir, const CachedAttachment& a);
// The attachment's file; nullopt when there is none. A file that is not JSON or not of kind
// cniCacheV1 is EINVAL.
Result<std::optional<CachedAttachment>> read_cached(std::string_view cache_dir,
                                                    std::string_view network,
                                                    std::string_view container_id,
                                                    std::string_view ifname);
// Removes the attachment's file; a missing file is success.
Result<void> remove_cached(std::string_view cache_dir, std::string_view network,
                           std::string_view container_id, std::string_view ifname);
// Every readable cniCacheV1 entry (sorted by file name), optionally only one container's;
// files that do not parse are skipped, as libcni skips them.
Result<std::vector<CachedAttachment>> list_cached(std::string_view cache_dir,
                                                  std::string_view container_id = {});

// The JSON form and back (exposed for tests).
Json cached_to_json(const CachedAttachment& a);
Result<CachedAttachment> cached_from_json(const Json& j);

// RFC 4648 base64 with padding: Go's encoding of a []byte field in JSON.
std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view text);

}  // namespace berth::net::cnidriver
