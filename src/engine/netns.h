// `--network none`: a fresh network namespace with only lo, and lo up (as docker and podman
// give it; the OCI runtime creates namespaces but configures no links). The namespace is kept
// by a bind mount of its nsfs file at <runroot>/netns/<id>, which config.json names, so it
// outlives restarts of the container and is what CNI will attach to later.
#pragma once

#include <string>

#include "base/result.h"

namespace berth::engine {

// Creates the namespace and binds it at `path`, unless `path` already holds one.
Result<void> create_netns(const std::string& path);
// Unmounts and removes `path`; a missing one is success.
Result<void> remove_netns(const std::string& path);

}  // namespace berth::engine
