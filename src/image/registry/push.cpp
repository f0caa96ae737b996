// Push: blobs first (HEAD, then a monolithic POST + PUT ?digest= upload for the missing ones),
// then each manifest, then the index, so the registry never holds a manifest naming a blob it
// lacks.
#include <set>

#include "base/log.h"
#include "image/registry/http.h"
#include "image/registry/media.h"
#include "image/registry/parallel.h"
#include "image/registry/progress.h"
#include "image/registry/registry.h"

namespace berth::image {
namespace {

using registry::Client;
using registry::Progress;
using registry::Request;
using registry::Response;

std::string short_digest(const Digest& d) {
    return d.str().substr(0, 7 + 12);
}

struct Pusher {
    Client& client;
    const ContentStore& store;
    const Reference& ref;
    const RegistryOptions& options;
    Progress progress;

    std::string scope() const { return "repository:" + ref.repository + ":pull,push"; }
    std::string where() const { return ref.registry + "/" + ref.repository; }

    Result<bool> registry_has(const Digest& d) {
        Request head;
        head.method = "HEAD";
        head.target = "/v2/" + ref.repository + "/blobs/" + d.str();
        head.scope = scope();
        auto r = BERTH_TRY(client.send_with_retries(head));
        if (r.status == 200) return true;
        if (r.status == 404) return false;
        return registry::status_error(r, "HEAD blob " + d.str());
    }

    // One POST + PUT; the caller retries the pair (an upload session does not survive a
    // failed PUT).
    Result<Response> upload_once(const Descriptor& desc, const UniqueFd& fd, uint64_t size,
                                 int bar) {
        Request post;
        post.method = "POST";
        post.target = "/v2/" + ref.repository + "/blobs/uploads/";
        post.scope = scope();
        auto started = BERTH_TRY(client.send(post));
        if (started.status != 202) return started;
        std::string location = started.header("location");
        if (location.empty()) {
            return Error(EPROTO) << "starting an upload: the registry gave no Location";
        }
        if (!location.starts_with("http://") && !location.starts_with("https://")) {
            if (!location.starts_with("/")) location = "/" + location;
            location = client.base_url() + location;
        }
        std::string digest = desc.digest.str();
        std::string escaped = desc.digest.algorithm + "%3A" + desc.digest.hex;
        Request put;
        put.method = "PUT";
        put.target =
            location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + escaped;
        put.scope = scope();
        put.headers.push_back("Content-Type: application/octet-stream");
        put.upload_fd = fd.get();
        put.upload_size = size;
        progress.reset(bar, 0);
        put.on_bytes = [&](uint64_t n) { progress.add_bytes(bar, n); };
        auto r = BERTH_TRY(client.send(put));
        if (r.status == 201) {
            std::string echoed = r.header("docker-content-digest");
            if (!echoed.empty() && echoed != digest) {
                return Error(EBADMSG) << "the registry stored " << echoed;
            }
        }
        return r;
    }

    Result<void> push_blob(const Descriptor& desc, int bar) {
        std::string what = "blob " + desc.digest.str() + " to " + where();
        if (BERTH_TRY_CTX(registry_has(desc.digest), what)) {
            progress.finish(bar, "skipped: already exists");
            return {};
        }
        auto fd = BERTH_TRY_CTX(store.open_blob(desc.digest), what);
        uint64_t size = BERTH_TRY_CTX(store.size(desc.digest), what);
        for (int attempt = 0;; ++attempt) {
            bool last = attempt >= options.retries;
            auto r = upload_once(desc, fd, size, bar);
            if (!r) {
                if (registry::is_transient(r.error()) && !last) {
                    client.backoff(attempt + 1, nullptr);
                    continue;
                }
                return std::move(r).error().wrap(what);
            }
            if (r->status == 201) break;
            if (registry::is_transient_status(r->status) && !last) {
                client.backoff(attempt + 1, &*r);
                continue;
            }
            return registry::status_error(*r, what);
        }
        progress.finish(bar, "done");
        return {};
    }

    Result<void> put_manifest(const Descriptor& desc, const std::string& body,
                              const std::string& reference) {
        std::string what = "manifest " + desc.digest.str() + " to " + where() +
                           (reference == desc.digest.str() ? "" : ":" + reference);
        std::string type = desc.media_type;
        if (type.empty()) type = BERTH_TRY_CTX(registry::manifest_media_type("", body), what);
        Request put;
        put.method = "PUT";
        put.target = "/v2/" + ref.repository + "/manifests/" + reference;
        put.scope = scope();
        put.headers.push_back("Content-Type: " + type);
        put.body = body;  // the stored bytes exactly: the digest is of them
        auto r = BERTH_TRY_CTX(client.send_with_retries(put), what);
        if (r.status != 201 && r.status != 200) return registry::status_error(r, what);
        std::string echoed = r.header("docker-content-digest");
        if (!echoed.empty() && echoed != desc.digest.str()) {
            return Error(EBADMSG) << what << ": the registry computed " << echoed;
        }
        return {};
    }

    Result<void> push_image(const Descriptor& desc, const std::string& reference) {
        std::string what = "manifest " + desc.digest.str();
        auto body = BERTH_TRY_CTX(store.read(desc.digest), what);
        auto manifest = BERTH_TRY_CTX(parse_manifest(body), what);
        std::vector<std::pair<std::string, Descriptor>> blobs;
        std::set<Digest> seen;
        for (const auto& layer : manifest.layers) {
            if (seen.insert(layer.digest).second) blobs.emplace_back("blob", layer);
        }
        if (seen.insert(manifest.config.digest).second) {
            blobs.emplace_back("config", manifest.config);
        }
        std::vector<int> bars;
        for (const auto& [label, d] : blobs) {
            if (!store.has(d.digest)) {
                return Error(ENOENT) << what << " names " << label << " " << d.digest.str()
                                     << ", which is not in the local store";
            }
            bars.push_back(progress.add(label + " " + short_digest(d.digest),
                                        d.size > 0 ? static_cast<uint64_t>(d.size) : 0));
        }
        BERTH_TRY(registry::run_parallel(blobs.size(), options.parallel, [&](size_t i) {
            auto r = push_blob(blobs[i].second, bars[i]);
            if (!r) progress.finish(bars[i], "failed");
            return r;
        }));
        return put_manifest(desc, body, reference);
    }
};

Result<void> push_to(Client& client, const ContentStore& store, const Descriptor& top,
                     const Reference& ref, const RegistryOptions& options) {
    Pusher p{client, store, ref, options, Progress(options.progress)};
    std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
    if (!ref.digest.empty() && ref.digest != top.digest.str()) {
        return Error(EINVAL) << "the reference names " << ref.digest << " but the image is "
                             << top.digest.str();
    }
    std::string type = top.media_type;
    if (type.empty()) {
        auto body = BERTH_TRY(store.read(top.digest));
        type = BERTH_TRY(registry::manifest_media_type("", body));
    }
    Descriptor desc = top;
    desc.media_type = type;
    switch (kind_of(type)) {
        case Kind::Manifest:
            BERTH_TRY(p.push_image(desc, reference));
            break;
        case Kind::Index: {
            auto body = BERTH_TRY_CTX(store.read(top.digest), "index " + top.digest.str());
            auto index = BERTH_TRY_CTX(parse_index(body), "index " + top.digest.str());
            for (const auto& m : index.manifests) {
                if (!store.has(m.digest)) {
                    return Error(ENOENT)
                           << "index " << top.digest.str() << " names manifest " << m.digest.str()
                           << ", which is not in the local store (pulled for "
                              "another platform?)";
                }
                if (kind_of(m.media_type) != Kind::Manifest) {
                    return Error(EPROTO)
                           << "index " << top.digest.str() << ": entry " << m.digest.str()
                           << " has unsupported media type `" << m.media_type << "`";
                }
                BERTH_TRY(p.push_image(m, m.digest.str()));
            }
            BERTH_TRY(p.put_manifest(desc, body, reference));
            break;
        }
        default:
            return Error(EPROTO) << "cannot push " << top.digest.str() << " of media type `" << type
                                 << "`: not an image manifest or index";
    }
    p.progress.message("Writing manifest to image destination");
    return {};
}

}  // namespace

Result<void> push(const ContentStore& store, const Descriptor& top, const Reference& ref,
                  const RegistryOptions& options) {
    std::string name = ref.str();
    auto client = BERTH_TRY_CTX(registry::Client::connect(ref.registry, ref.repository, options),
                                "pushing " + name);
    BERTH_TRY_CTX(push_to(*client, store, top, ref, options), "pushing " + name);
    return {};
}

}  // namespace berth::image
