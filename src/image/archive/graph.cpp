#include "image/archive/graph.h"

#include <set>

namespace berth::image {
namespace {

Result<void> walk(const ContentStore& store, const Descriptor& d, const std::string& parent,
                  std::set<Digest>& seen, std::vector<Descriptor>& out) {
    if (!seen.insert(d.digest).second) return {};
    if (!store.has(d.digest)) {
        return Error(ENOENT) << "blob " << d.digest.str() << " (" << d.media_type << ")"
                             << (parent.empty() ? "" : " referenced by ") << parent
                             << " is not in the store";
    }
    out.push_back(d);
    switch (kind_of(d.media_type)) {
        case Kind::Index: {
            std::string text = BERTH_TRY(store.read(d.digest));
            Index index = BERTH_TRY_CTX(parse_index(text), "index " + d.digest.str());
            for (const auto& m : index.manifests) {
                BERTH_TRY(walk(store, m, "index " + d.digest.str(), seen, out));
            }
            break;
        }
        case Kind::Manifest: {
            std::string text = BERTH_TRY(store.read(d.digest));
            Manifest m = BERTH_TRY_CTX(parse_manifest(text), "manifest " + d.digest.str());
            std::string me = "manifest " + d.digest.str();
            BERTH_TRY(walk(store, m.config, me, seen, out));
            for (const auto& l : m.layers) BERTH_TRY(walk(store, l, me, seen, out));
            break;
        }
        default:
            break;
    }
    return {};
}

}  // namespace

Result<std::vector<Descriptor>> reachable_blobs(const ContentStore& store, const Descriptor& top) {
    std::set<Digest> seen;
    std::vector<Descriptor> out;
    BERTH_TRY(walk(store, top, "", seen, out));
    return out;
}

Result<Descriptor> exportable_descriptor(const ContentStore& store, const Descriptor& top) {
    if (kind_of(top.media_type) != Kind::Index) return top;
    if (reachable_blobs(store, top).ok()) return top;
    ManifestInfo m = BERTH_TRY(platform_manifest(store, top, host_platform()));
    return m.desc;
}

Result<ManifestInfo> platform_manifest(const ContentStore& store, const Descriptor& top,
                                       const Platform& platform) {
    Descriptor d = top;
    for (int depth = 0; kind_of(d.media_type) == Kind::Index; ++depth) {
        if (depth > 4) return Error(ELOOP) << "indexes nested too deeply at " << d.digest.str();
        std::string text = BERTH_TRY(store.read(d.digest));
        Index index = BERTH_TRY_CTX(parse_index(text), "index " + d.digest.str());
        d = BERTH_TRY_CTX(select_platform(index, platform), "index " + d.digest.str());
    }
    if (kind_of(d.media_type) != Kind::Manifest) {
        return Error(EINVAL) << d.digest.str() << " is a " << d.media_type
                             << ", not an image manifest or index";
    }
    std::string text = BERTH_TRY(store.read(d.digest));
    Manifest m = BERTH_TRY_CTX(parse_manifest(text), "manifest " + d.digest.str());
    return ManifestInfo{d, std::move(m)};
}

}  // namespace berth::image
