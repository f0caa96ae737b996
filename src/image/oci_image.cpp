#include "image/oci_image.h"

namespace berth::image {

Kind kind_of(std::string_view media_type) {
    if (media_type == media::kOciIndex || media_type == media::kDockerManifestList)
        return Kind::Index;
    if (media_type == media::kOciManifest || media_type == media::kDockerManifest)
        return Kind::Manifest;
    if (media_type == media::kOciConfig || media_type == media::kDockerConfig) return Kind::Config;
    if (layer_compression(media_type).ok()) return Kind::Layer;
    return Kind::Unknown;
}

Result<Compression> layer_compression(std::string_view media_type) {
    // Non-distributable ("foreign") layers unpack like the others when their blob is present.
    static constexpr std::string_view kPlain[] = {
        media::kOciLayer,
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.docker.image.rootfs.diff.tar",
    };
    static constexpr std::string_view kGzip[] = {
        media::kOciLayerGzip,
        media::kDockerLayerGzip,
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    static constexpr std::string_view kZstd[] = {
        media::kOciLayerZstd,
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    };
    for (auto m : kPlain)
        if (media_type == m) return Compression::None;
    for (auto m : kGzip)
        if (media_type == m) return Compression::Gzip;
    for (auto m : kZstd)
        if (media_type == m) return Compression::Zstd;
    return Error(EINVAL) << "unsupported layer media type `" << media_type << "`";
}

Platform host_platform() {
    Platform p;
#if defined(__x86_64__)
    p.architecture = "amd64";
#elif defined(__aarch64__)
    p.architecture = "arm64";
#elif defined(__arm__)
    p.architecture = "arm";
    p.variant = "v7";
#elif defined(__i386__)
    p.architecture = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    p.architecture = "ppc64le";
#elif defined(__s390x__)
    p.architecture = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    p.architecture = "riscv64";
#else
    p.architecture = "unknown";
#endif
    return p;
}

namespace {

// Field accessors: absent and null are "not given"; a wrong type is an error naming the field.
Result<const Json*> member(const Json& obj, const char* key, std::string_view where,
                           bool required) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        if (required) return Error(EINVAL) << where << "." << key << ": missing";
        return static_cast<const Json*>(nullptr);
    }
    return &*it;
}

Result<std::string> get_string(const Json& obj, const char* key, std::string_view where,
                               bool required = false) {
    const Json* v = BERTH_TRY(member(obj, key, where, required));
    if (!v) return std::string();
    if (!v->is_string()) return Error(EINVAL) << where << "." << key << ": not a string";
    return v->get<std::string>();
}

Result<std::vector<std::string>> get_string_list(const Json& obj, const char* key,
                                                 std::string_view where) {
    std::vector<std::string> out;
    const Json* v = BERTH_TRY(member(obj, key, where, false));
    if (!v) return out;
    if (!v->is_array()) return Error(EINVAL) << where << "." << key << ": not an array";
    for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string())
            return Error(EINVAL) << where << "." << key << "[" << i << "]: not a string";
        out.push_back((*v)[i].get<std::string>());
    }
    return out;
}

Result<std::map<std::string, std::string>> get_string_map(const Json& obj, const char* key,
                                                          std::string_view where) {
    std::map<std::string, std::string> out;
    const Json* v = BERTH_TRY(member(obj, key, where, false));
    if (!v) return out;
    if (!v->is_object()) return Error(EINVAL) << where << "." << key << ": not an object";
    for (auto it = v->begin(); it != v->end(); ++it) {
        if (!it.value().is_string())
            return Error(EINVAL) << where << "." << key << "." << it.key() << ": not a string";
        out[it.key()] = it.value().get<std::string>();
    }
    return out;
}

// {"80/tcp": {}, ...}: the keys (docker writes ExposedPorts and Volumes this way).
Result<std::vector<std::string>> get_key_set(const Json& obj, const char* key,
                                             std::string_view where) {
    std::vector<std::string> out;
    const Json* v = BERTH_TRY(member(obj, key, where, false));
    if (!v) return out;
    if (!v->is_object()) return Error(EINVAL) << where << "." << key << ": not an object";
    for (auto it = v->begin(); it != v->end(); ++it) out.push_back(it.key());
    return out;
}

Result<Json> parse_object(std::string_view text, std::string_view what) {
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Error(EINVAL) << what << ": not valid JSON";
    if (!j.is_object()) return Error(EINVAL) << what << ": not a JSON object";
    return j;
}

Result<int> get_schema_version(const Json& j, std::string_view where) {
    const Json* v = BERTH_TRY(member(j, "schemaVersion", where, true));
    if (!v->is_number_integer()) return Error(EINVAL) << where << ".schemaVersion: not an integer";
    auto version = v->get<int64_t>();
    if (version == 1)
        return Error(EINVAL)
               << where << ".schemaVersion: 1 (docker image manifest schema 1) is not supported";
    if (version != 2) return Error(EINVAL) << where << ".schemaVersion: " << version << " is not 2";
    return 2;
}

Result<Platform> parse_platform(const Json& j, const std::string& where) {
    if (!j.is_object()) return Error(EINVAL) << where << ": not an object";
    Platform p;
    p.os = BERTH_TRY(get_string(j, "os", where, true));
    p.architecture = BERTH_TRY(get_string(j, "architecture", where, true));
    p.variant = BERTH_TRY(get_string(j, "variant", where));
    return p;
}

std::string at(std::string_view where, const char* key, size_t i) {
    std::string s(where);
    s += ".";
    s += key;
    s += "[";
    s += std::to_string(i);
    s += "]";
    return s;
}

}  // namespace

Result<Descriptor> parse_descriptor(const Json& j, std::string_view where) {
    if (!j.is_object()) return Error(EINVAL) << where << ": not an object";
    Descriptor d;
    d.media_type = BERTH_TRY(get_string(j, "mediaType", where, true));
    std::string digest = BERTH_TRY(get_string(j, "digest", where, true));
    auto parsed = Digest::parse(digest);
    if (!parsed.ok()) return std::move(parsed).error().wrap(std::string(where) + ".digest");
    d.digest = std::move(parsed).value();
    const Json* size = BERTH_TRY(member(j, "size", where, true));
    if (!size->is_number_integer() ||
        (size->is_number_integer() && !size->is_number_unsigned() && size->get<int64_t>() < 0))
        return Error(EINVAL) << where << ".size: not a non-negative integer";
    if (size->is_number_unsigned() && size->get<uint64_t>() > uint64_t(INT64_MAX))
        return Error(EINVAL) << where << ".size: too large";
    d.size = size->get<int64_t>();
    d.annotations = BERTH_TRY(get_string_map(j, "annotations", where));
    d.urls = BERTH_TRY(get_string_list(j, "urls", where));
    auto platform = j.find("platform");
    if (platform != j.end() && !platform->is_null())
        d.platform = BERTH_TRY(parse_platform(*platform, std::string(where) + ".platform"));
    return d;
}

Result<Manifest> parse_manifest(std::string_view text) {
    constexpr std::string_view where = "manifest";
    Json j = BERTH_TRY(parse_object(text, where));
    Manifest m;
    m.media_type = BERTH_TRY(get_string(j, "mediaType", where));
    if (!m.media_type.empty() && kind_of(m.media_type) != Kind::Manifest) {
        if (kind_of(m.media_type) == Kind::Index)
            return Error(EINVAL) << "manifest.mediaType: `" << m.media_type
                                 << "` is an image index, not a manifest";
        return Error(EINVAL) << "manifest.mediaType: unknown media type `" << m.media_type << "`";
    }
    if (m.media_type.empty() && j.contains("manifests") && !j.contains("config"))
        return Error(EINVAL) << "manifest: is an image index (has manifests), not a manifest";
    m.schema_version = BERTH_TRY(get_schema_version(j, where));
    const Json* config = BERTH_TRY(member(j, "config", where, true));
    m.config = BERTH_TRY(parse_descriptor(*config, "manifest.config"));
    if (kind_of(m.config.media_type) != Kind::Config)
        return Error(EINVAL) << "manifest.config.mediaType: unknown image config media type `"
                             << m.config.media_type << "`";
    const Json* layers = BERTH_TRY(member(j, "layers", where, true));
    if (!layers->is_array()) return Error(EINVAL) << "manifest.layers: not an array";
    for (size_t i = 0; i < layers->size(); ++i) {
        std::string w = at(where, "layers", i);
        Descriptor layer = BERTH_TRY(parse_descriptor((*layers)[i], w));
        if (!layer_compression(layer.media_type).ok())
            return Error(EINVAL) << w << ".mediaType: unknown layer media type `"
                                 << layer.media_type << "`";
        m.layers.push_back(std::move(layer));
    }
    m.annotations = BERTH_TRY(get_string_map(j, "annotations", where));
    return m;
}

Result<Index> parse_index(std::string_view text) {
    constexpr std::string_view where = "index";
    Json j = BERTH_TRY(parse_object(text, where));
    Index idx;
    idx.media_type = BERTH_TRY(get_string(j, "mediaType", where));
    if (!idx.media_type.empty() && kind_of(idx.media_type) != Kind::Index) {
        if (kind_of(idx.media_type) == Kind::Manifest)
            return Error(EINVAL) << "index.mediaType: `" << idx.media_type
                                 << "` is an image manifest, not an index";
        return Error(EINVAL) << "index.mediaType: unknown media type `" << idx.media_type << "`";
    }
    idx.schema_version = BERTH_TRY(get_schema_version(j, where));
    const Json* manifests = BERTH_TRY(member(j, "manifests", where, true));
    if (!manifests->is_array()) return Error(EINVAL) << "index.manifests: not an array";
    for (size_t i = 0; i < manifests->size(); ++i)
        idx.manifests.push_back(
            BERTH_TRY(parse_descriptor((*manifests)[i], at(where, "manifests", i))));
    idx.annotations = BERTH_TRY(get_string_map(j, "annotations", where));
    return idx;
}

Result<ImageConfig> parse_image_config(std::string_view text) {
    constexpr std::string_view where = "config";
    Json j = BERTH_TRY(parse_object(text, where));
    ImageConfig c;
    c.architecture = BERTH_TRY(get_string(j, "architecture", where));
    c.os = BERTH_TRY(get_string(j, "os", where));
    c.variant = BERTH_TRY(get_string(j, "variant", where));
    c.created = BERTH_TRY(get_string(j, "created", where));
    const Json* run = BERTH_TRY(member(j, "config", where, false));
    if (run) {
        if (!run->is_object()) return Error(EINVAL) << "config.config: not an object";
        constexpr std::string_view w = "config.config";
        c.user = BERTH_TRY(get_string(*run, "User", w));
        c.env = BERTH_TRY(get_string_list(*run, "Env", w));
        c.entrypoint = BERTH_TRY(get_string_list(*run, "Entrypoint", w));
        c.cmd = BERTH_TRY(get_string_list(*run, "Cmd", w));
        c.working_dir = BERTH_TRY(get_string(*run, "WorkingDir", w));
        c.exposed_ports = BERTH_TRY(get_key_set(*run, "ExposedPorts", w));
        c.volumes = BERTH_TRY(get_key_set(*run, "Volumes", w));
        c.stop_signal = BERTH_TRY(get_string(*run, "StopSignal", w));
        c.labels = BERTH_TRY(get_string_map(*run, "Labels", w));
    }
    const Json* rootfs = BERTH_TRY(member(j, "rootfs", where, true));
    if (!rootfs->is_object()) return Error(EINVAL) << "config.rootfs: not an object";
    std::string type = BERTH_TRY(get_string(*rootfs, "type", "config.rootfs", true));
    if (type != "layers")
        return Error(EINVAL) << "config.rootfs.type: `" << type << "` is not \"layers\"";
    const Json* diff_ids = BERTH_TRY(member(*rootfs, "diff_ids", "config.rootfs", true));
    if (!diff_ids->is_array()) return Error(EINVAL) << "config.rootfs.diff_ids: not an array";
    for (size_t i = 0; i < diff_ids->size(); ++i) {
        std::string w = at("config.rootfs", "diff_ids", i);
        if (!(*diff_ids)[i].is_string()) return Error(EINVAL) << w << ": not a string";
        auto d = Digest::parse((*diff_ids)[i].get<std::string>());
        if (!d.ok()) return std::move(d).error().wrap(w);
        c.diff_ids.push_back(std::move(d).value());
    }
    c.raw = std::move(j);
    return c;
}

Json descriptor_to_json(const Descriptor& d) {
    Json j = Json::object();
    j["mediaType"] = d.media_type;
    j["digest"] = d.digest.str();
    j["size"] = d.size;
    if (!d.annotations.empty()) j["annotations"] = d.annotations;
    if (!d.urls.empty()) j["urls"] = d.urls;
    if (d.platform) {
        Json p = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
        if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
        j["platform"] = std::move(p);
    }
    return j;
}

namespace {
// Strings from outside input may hold invalid UTF-8 only if the parser let them through; dump()
// replaces rather than throws.
std::string dump(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}
}  // namespace

std::string manifest_to_json(const Manifest& m) {
    Json j = Json::object();
    j["schemaVersion"] = m.schema_version;
    if (!m.media_type.empty()) j["mediaType"] = m.media_type;
    j["config"] = descriptor_to_json(m.config);
    Json layers = Json::array();
    for (const auto& l : m.layers) layers.push_back(descriptor_to_json(l));
    j["layers"] = std::move(layers);
    if (!m.annotations.empty()) j["annotations"] = m.annotations;
    return dump(j);
}

std::string index_to_json(const Index& i) {
    Json j = Json::object();
    j["schemaVersion"] = i.schema_version;
    if (!i.media_type.empty()) j["mediaType"] = i.media_type;
    Json manifests = Json::array();
    for (const auto& m : i.manifests) manifests.push_back(descriptor_to_json(m));
    j["manifests"] = std::move(manifests);
    if (!i.annotations.empty()) j["annotations"] = i.annotations;
    return dump(j);
}

namespace {
// arm64's only variant is v8: an index that says "arm64/v8" and one that says "arm64" agree.
std::string normal_variant(const Platform& p) {
    if (p.architecture == "arm64" && p.variant == "v8") return "";
    return p.variant;
}

std::string platform_str(const Platform& p) {
    std::string s = p.os + "/" + p.architecture;
    if (!p.variant.empty()) s += "/" + p.variant;
    return s;
}
}  // namespace

Result<Descriptor> select_platform(const Index& index, const Platform& platform) {
    const Descriptor* match = nullptr;
    const Descriptor* unlabelled = nullptr;
    size_t n_unlabelled = 0;
    std::vector<std::string> seen;
    for (const auto& d : index.manifests) {
        Kind k = kind_of(d.media_type);
        if (k != Kind::Manifest && k != Kind::Index) continue;
        if (!d.platform) {
            if (k == Kind::Manifest) {
                unlabelled = unlabelled ? unlabelled : &d;
                ++n_unlabelled;
            }
            continue;
        }
        const Platform& p = *d.platform;
        seen.push_back(platform_str(p));
        if (p.os != platform.os || p.architecture != platform.architecture) continue;
        if (!platform.variant.empty() && normal_variant(p) != normal_variant(platform)) continue;
        // Without a wanted variant, the first entry for the architecture wins (the index lists
        // its preferred one first, as docker does).
        if (!match) match = &d;
    }
    if (match) return *match;
    // An OCI layout's index.json often names a single image without a platform.
    if (n_unlabelled == 1 && seen.empty()) return *unlabelled;
    Error e(ENOENT);
    e << "no image for platform " << platform_str(platform) << " in the index";
    if (!seen.empty()) {
        e << " (it has";
        for (const auto& s : seen) e << " " << s;
        e << ")";
    } else if (n_unlabelled > 1) {
        e << " (it has " << n_unlabelled << " manifests without a platform)";
    }
    return e;
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
    std::vector<Digest> out;
    out.reserve(diff_ids.size());
    for (const auto& d : diff_ids) {
        if (out.empty()) {
            out.push_back(d);
        } else {
            out.push_back(sha256_of(out.back().str() + " " + d.str()));
        }
    }
    return out;
}

}  // namespace berth::image
