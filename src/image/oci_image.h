// OCI image-spec types (descriptors, manifests, indexes, image configs), parsed from and printed
// to JSON. Docker's schema2 media types are accepted alongside OCI's and mapped to their kind.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "image/digest.h"

namespace berth::image {

using Json = nlohmann::json;

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

enum class Kind { Index, Manifest, Config, Layer, Unknown };
Kind kind_of(std::string_view media_type);
enum class Compression { None, Gzip, Zstd };
// EINVAL naming the media type when it is not a layer type we can unpack.
Result<Compression> layer_compression(std::string_view media_type);

struct Platform {
    std::string os = "linux";
    std::string architecture;  // "amd64", "arm64"...
    std::string variant;
    bool operator==(const Platform&) const = default;
};
Platform host_platform();  // linux/<this machine's GOARCH name>

struct Descriptor {
    std::string media_type;
    Digest digest;
    int64_t size = 0;
    std::map<std::string, std::string> annotations;
    std::optional<Platform> platform;  // in an index
    std::vector<std::string> urls;
};

struct Manifest {
    int schema_version = 2;
    std::string media_type;  // may be empty in OCI manifests
    Descriptor config;
    std::vector<Descriptor> layers;
    std::map<std::string, std::string> annotations;
};

struct Index {
    int schema_version = 2;
    std::string media_type;
    std::vector<Descriptor> manifests;
    std::map<std::string, std::string> annotations;
};

// The parts of an image config the engine uses; `raw` keeps the whole document.
struct ImageConfig {
    std::string architecture, os, variant;
    std::string created;
    std::string user;
    std::vector<std::string> env, entrypoint, cmd;
    std::string working_dir;
    std::vector<std::string> exposed_ports;  // "80/tcp"
    std::vector<std::string> volumes;
    std::string stop_signal;
    std::map<std::string, std::string> labels;
    std::vector<Digest> diff_ids;  // rootfs.diff_ids: the uncompressed layers' digests
    Json raw;
};

// Parsers: EINVAL naming the field ("manifest.layers[2].digest: ...") on malformed input.
Result<Descriptor> parse_descriptor(const Json& j, std::string_view where);
Result<Manifest> parse_manifest(std::string_view text);
Result<Index> parse_index(std::string_view text);
Result<ImageConfig> parse_image_config(std::string_view text);
Json descriptor_to_json(const Descriptor& d);
std::string manifest_to_json(const Manifest& m);  // canonical (sorted keys, no spaces)
std::string index_to_json(const Index& i);

// The manifest in `index` for `platform` (architecture and, when given, variant), ENOENT naming
// the platforms there are otherwise.
Result<Descriptor> select_platform(const Index& index, const Platform& platform);

// The chain ID of layers [0..n] (OCI image-spec "ChainID"): the snapshot key of a layer stack.
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);

}  // namespace berth::image
