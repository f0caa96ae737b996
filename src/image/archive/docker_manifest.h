// The manifest.json of a docker-archive (`docker save`): one entry per image.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::image {

struct DockerArchiveEntry {
    std::string config;                  // path of the config in the tar, cleaned
    std::vector<std::string> repo_tags;  // "busybox:latest"; may be empty
    std::vector<std::string> layers;     // paths of the layer tars, lowest first, cleaned
};

// EINVAL naming the field ("manifest.json[0].Layers[1]: ...") on malformed input.
Result<std::vector<DockerArchiveEntry>> parse_docker_manifest(std::string_view text);
std::string docker_manifest_to_json(const std::vector<DockerArchiveEntry>& entries);

}  // namespace berth::image
