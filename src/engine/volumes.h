// `-v` and `--tmpfs` as docker reads them, turned into OCI mounts; named volumes are plain
// directories under <root>/volumes/<name>/_data, made on first use and kept until `rm`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::engine {

struct MountRequest {
    std::string destination;  // a clean absolute path
    std::string type;         // bind | tmpfs
    std::string source;
    std::vector<std::string> options;
};

// <root>/volumes
std::string volumes_dir(const std::string& root);
// docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+
bool valid_volume_name(std::string_view name);
// <volumes_dir>/<name>/_data
std::string volume_data_dir(const std::string& volumes_dir, const std::string& name);

// HOST:CTR[:OPTS] or NAME:CTR[:OPTS]; OPTS: ro, rw, z, Z, and a propagation mode. A host
// path must exist (ENOENT naming it); a named volume's directory is made when missing.
Result<MountRequest> parse_volume(const std::string& spec, const std::string& volumes_dir);
// PATH[:OPTS] (OPTS comma-separated mount options, after docker's noexec,nosuid,nodev).
Result<MountRequest> parse_tmpfs(const std::string& spec);

// Named volumes, sorted.
Result<std::vector<std::string>> list_volumes(const std::string& volumes_dir);
// ENOENT "no such volume" when absent.
Result<void> remove_volume(const std::string& volumes_dir, const std::string& name);

}  // namespace berth::engine
