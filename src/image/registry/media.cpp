#include "image/registry/media.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "image/oci_image.h"

namespace berth::image::registry {

const char* const kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

Result<std::string> manifest_media_type(std::string_view content_type, std::string_view body) {
    std::string type(trim(content_type.substr(0, content_type.find(';'))));
    if (type.empty() || type == "application/json" || type == "text/plain" ||
        type == "application/octet-stream") {
        type.clear();
        auto doc = nlohmann::json::parse(body, nullptr, false);
        if (doc.is_object()) {
            if (auto mt = doc.find("mediaType"); mt != doc.end() && mt->is_string()) {
                type = mt->get<std::string>();
            } else if (doc.contains("manifests")) {
                type = media::kOciIndex;
            } else if (doc.contains("config")) {
                type = media::kOciManifest;
            } else if (doc.contains("fsLayers")) {
                type = "application/vnd.docker.distribution.manifest.v1+json";
            }
        }
    }
    if (type.empty()) return Error(EPROTO) << "manifest of unknown media type";
    Kind k = kind_of(type);
    if (k != Kind::Index && k != Kind::Manifest) {
        return Error(EPROTO) << "unsupported manifest media type `" << type << "`";
    }
    return type;
}

}  // namespace berth::image::registry
