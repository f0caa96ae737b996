#include "image/archive/docker_manifest.h"

#include <nlohmann/json.hpp>

#include "base/file.h"

namespace berth::image {
namespace {

using Json = nlohmann::json;

// A path inside the archive: relative, cleaned, never leaving it.
Result<std::string> archive_path(const Json& j, const std::string& where) {
    if (!j.is_string()) return Error(EINVAL) << where << ": not a string";
    std::string p = j.get<std::string>();
    if (p.empty()) return Error(EINVAL) << where << ": empty path";
    std::string cleaned = path_clean("/" + p);
    if (cleaned == "/") return Error(EINVAL) << where << ": `" << p << "` is not a file";
    return cleaned.substr(1);
}

}  // namespace

Result<std::vector<DockerArchiveEntry>> parse_docker_manifest(std::string_view text) {
    Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return Error(EINVAL) << "manifest.json: not valid JSON";
    if (!doc.is_array()) return Error(EINVAL) << "manifest.json: not an array";
    if (doc.empty()) return Error(EINVAL) << "manifest.json: no images";
    std::vector<DockerArchiveEntry> out;
    for (size_t i = 0; i < doc.size(); ++i) {
        const Json& e = doc[i];
        std::string where = "manifest.json[" + std::to_string(i) + "]";
        if (!e.is_object()) return Error(EINVAL) << where << ": not an object";
        DockerArchiveEntry entry;
        auto config = e.find("Config");
        if (config == e.end()) return Error(EINVAL) << where << ".Config: missing";
        entry.config = BERTH_TRY(archive_path(*config, where + ".Config"));
        auto tags = e.find("RepoTags");
        if (tags != e.end() && !tags->is_null()) {
            if (!tags->is_array()) return Error(EINVAL) << where << ".RepoTags: not an array";
            for (size_t t = 0; t < tags->size(); ++t) {
                const Json& tag = (*tags)[t];
                if (!tag.is_string() || tag.get<std::string>().empty()) {
                    return Error(EINVAL)
                           << where << ".RepoTags[" << t << "]: not a non-empty string";
                }
                entry.repo_tags.push_back(tag.get<std::string>());
            }
        }
        auto layers = e.find("Layers");
        if (layers == e.end()) return Error(EINVAL) << where << ".Layers: missing";
        if (!layers->is_array()) return Error(EINVAL) << where << ".Layers: not an array";
        for (size_t l = 0; l < layers->size(); ++l) {
            entry.layers.push_back(BERTH_TRY(
                archive_path((*layers)[l], where + ".Layers[" + std::to_string(l) + "]")));
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::string docker_manifest_to_json(const std::vector<DockerArchiveEntry>& entries) {
    Json doc = Json::array();
    for (const auto& e : entries) {
        doc.push_back(Json{{"Config", e.config},
                           {"RepoTags", e.repo_tags.empty() ? Json(nullptr) : Json(e.repo_tags)},
                           {"Layers", e.layers}});
    }
    return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace berth::image
