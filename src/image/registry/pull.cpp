// Pull: manifest (or index, then the platform's manifest), config and layers into the content
// store. Every blob goes through a ContentStore::Writer whose commit() checks digest and size,
// so a corrupt or truncated blob never becomes visible.
#include <optional>
#include <set>

#include "base/log.h"
#include "base/strings.h"
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

struct Fetched {
    std::string body;
    Descriptor desc;
};

std::string short_digest(const Digest& d) {
    return d.str().substr(0, 7 + 12);
}

// GET /v2/<repo>/manifests/<reference>, checked against the digest we asked for or, for a tag,
// the registry's Docker-Content-Digest.
Result<Fetched> fetch_manifest(Client& client, const Reference& ref, const std::string& reference,
                               const std::optional<Digest>& expected,
                               std::optional<int64_t> expected_size) {
    std::string what = "manifest " + reference + " in " + ref.registry + "/" + ref.repository;
    Request req;
    req.target = "/v2/" + ref.repository + "/manifests/" + reference;
    req.headers.push_back(registry::kManifestAccept);
    req.scope = "repository:" + ref.repository + ":pull";
    auto r = BERTH_TRY_CTX(client.send_with_retries(req), what);
    if (r.status != 200) return registry::status_error(r, what);
    Fetched f;
    f.desc.digest = sha256_of(r.body);
    f.desc.size = static_cast<int64_t>(r.body.size());
    if (expected && f.desc.digest != *expected) {
        return Error(EBADMSG) << what << ": digest mismatch: the registry sent "
                              << f.desc.digest.str();
    }
    if (!expected) {
        std::string header = r.header("docker-content-digest");
        if (header.starts_with("sha256:") && header != f.desc.digest.str()) {
            return Error(EBADMSG) << what << ": content is " << f.desc.digest.str()
                                  << " but the registry says " << header;
        }
    }
    if (expected_size && *expected_size != f.desc.size) {
        return Error(EBADMSG) << what << ": " << f.desc.size << " bytes, the index says "
                              << *expected_size;
    }
    f.desc.media_type =
        BERTH_TRY_CTX(registry::manifest_media_type(r.header("content-type"), r.body), what);
    f.body = std::move(r.body);
    return f;
}

// Content-Range: bytes START-END/TOTAL -> START.
std::optional<uint64_t> range_start(std::string_view header) {
    if (!header.starts_with("bytes ")) return std::nullopt;
    header.remove_prefix(6);
    return parse_number<uint64_t>(header.substr(0, header.find('-')));
}

// One blob into the store: resumed with Range after a dropped connection when the registry
// answers 206, restarted when it answers 200; retried on transient failures.
Result<void> fetch_blob(Client& client, const Reference& ref, const Descriptor& desc,
                        ContentStore& store, Progress& progress, int bar) {
    std::string what = "blob " + desc.digest.str() + " from " + ref.registry + "/" + ref.repository;
    auto writer = BERTH_TRY_CTX(store.writer(), what);
    const uint64_t size = desc.size > 0 ? static_cast<uint64_t>(desc.size) : 0;
    const int retries = client.options().retries;
    for (int attempt = 0;; ++attempt) {
        bool last = attempt >= retries;
        uint64_t offset = writer.written();
        Request req;
        req.target = "/v2/" + ref.repository + "/blobs/" + desc.digest.str();
        req.scope = "repository:" + ref.repository + ":pull";
        if (offset > 0) req.headers.push_back("Range: bytes=" + std::to_string(offset) + "-");
        req.on_start = [&](const Response& r) -> Result<void> {
            if (offset == 0) return {};
            if (r.status == 206) {
                auto start = range_start(r.header("content-range"));
                if (start && *start == offset) return {};
                // Not the range we asked for: start over.
                log::debug(what + ": unexpected Content-Range `" + r.header("content-range") + "`");
            }
            writer = BERTH_TRY(store.writer());
            progress.reset(bar, 0);
            return {};
        };
        req.sink = [&](std::string_view data) -> Result<void> {
            if (size && writer.written() + data.size() > size) {
                return Error(EBADMSG)
                       << what << ": larger than the " << size << " bytes its descriptor gives";
            }
            BERTH_TRY(writer.write(data));
            progress.add_bytes(bar, data.size());
            return {};
        };
        auto r = client.send(req);
        if (!r) {
            if (registry::is_transient(r.error()) && !last) {
                log::debug(what + ": " + r.error().what() + "; retrying");
                client.backoff(attempt + 1, nullptr);
                continue;
            }
            return std::move(r).error().wrap(what);
        }
        if (r->status == 416 && offset > 0) {  // our partial data is no use: start over
            writer = BERTH_TRY_CTX(store.writer(), what);
            progress.reset(bar, 0);
            if (last) return registry::status_error(*r, what);
            continue;
        }
        if (r->status != 200 && r->status != 206) {
            if (registry::is_transient_status(r->status) && !last) {
                client.backoff(attempt + 1, &*r);
                continue;
            }
            return registry::status_error(*r, what);
        }
        if (size && writer.written() < size) {
            if (!last) {
                log::debug(what + ": connection closed after " + std::to_string(writer.written()) +
                           " of " + std::to_string(size) + " bytes; resuming");
                client.backoff(attempt + 1, nullptr);
                continue;
            }
            return Error(EIO) << what << ": truncated: " << writer.written() << " of " << size
                              << " bytes after " << (attempt + 1) << " attempts";
        }
        auto committed = writer.commit(
            desc.digest, desc.size > 0 ? std::optional<uint64_t>(size) : std::nullopt);
        if (!committed) return std::move(committed).error().wrap(what);
        progress.finish(bar, "done");
        return {};
    }
}

Result<void> check_blob_types(const Manifest& m, const std::string& what) {
    if (kind_of(m.config.media_type) != Kind::Config) {
        return Error(EPROTO) << what << ": config " << m.config.digest.str()
                             << " has unsupported media type `" << m.config.media_type << "`";
    }
    for (const auto& layer : m.layers) {
        auto c = layer_compression(layer.media_type);
        if (!c) {
            return Error(EPROTO) << what << ": layer " << layer.digest.str()
                                 << " has unsupported media type `" << layer.media_type << "`";
        }
    }
    return {};
}

Result<Descriptor> pull_from(Client& client, ContentStore& store, const Reference& ref,
                             const Platform& platform, const RegistryOptions& options) {
    std::optional<Digest> pinned;
    if (!ref.digest.empty()) pinned = BERTH_TRY(Digest::parse(ref.digest));
    auto top =
        BERTH_TRY(fetch_manifest(client, ref, pinned ? ref.digest : ref.tag, pinned, std::nullopt));
    BERTH_TRY_CTX(store.write_blob(top.body, top.desc.digest), "storing the manifest");

    Fetched image = top;
    if (kind_of(top.desc.media_type) == Kind::Index) {
        auto index = BERTH_TRY_CTX(parse_index(top.body), "index " + top.desc.digest.str());
        auto chosen =
            BERTH_TRY_CTX(select_platform(index, platform), "index " + top.desc.digest.str());
        image =
            BERTH_TRY(fetch_manifest(client, ref, chosen.digest.str(), chosen.digest,
                                     chosen.size > 0 ? std::optional(chosen.size) : std::nullopt));
        if (kind_of(image.desc.media_type) != Kind::Manifest) {
            return Error(EPROTO) << "manifest " << chosen.digest.str() << " of index "
                                 << top.desc.digest.str() << " is itself an index (`"
                                 << image.desc.media_type << "`), which is not supported";
        }
        BERTH_TRY_CTX(store.write_blob(image.body, image.desc.digest), "storing the manifest");
    }
    std::string what = "manifest " + image.desc.digest.str();
    auto manifest = BERTH_TRY_CTX(parse_manifest(image.body), what);
    BERTH_TRY(check_blob_types(manifest, what));

    // Config first (small, and what an interrupted pull most wants), then layers; each once.
    std::vector<std::pair<std::string, Descriptor>> blobs;
    std::set<Digest> seen;
    blobs.emplace_back("config", manifest.config);
    seen.insert(manifest.config.digest);
    for (const auto& layer : manifest.layers) {
        if (seen.insert(layer.digest).second) blobs.emplace_back("blob", layer);
    }
    Progress progress(options.progress);
    std::vector<size_t> todo;
    std::vector<int> bars(blobs.size(), -1);
    for (size_t i = 0; i < blobs.size(); ++i) {
        const auto& [label, desc] = blobs[i];
        bars[i] = progress.add(label + " " + short_digest(desc.digest),
                               desc.size > 0 ? static_cast<uint64_t>(desc.size) : 0);
        if (store.has(desc.digest)) {
            progress.finish(bars[i], "skipped: already exists");
        } else {
            todo.push_back(i);
        }
    }
    BERTH_TRY(registry::run_parallel(todo.size(), options.parallel, [&](size_t k) {
        size_t i = todo[k];
        auto r = fetch_blob(client, ref, blobs[i].second, store, progress, bars[i]);
        if (!r) progress.finish(bars[i], "failed");
        return r;
    }));
    progress.message("Writing manifest to image destination");
    return top.desc;
}

}  // namespace

Result<Descriptor> pull(ContentStore& store, const Reference& ref, const Platform& platform,
                        const RegistryOptions& options) {
    std::string name = ref.str();
    auto client = BERTH_TRY_CTX(registry::Client::connect(ref.registry, ref.repository, options),
                                "pulling " + name);
    return BERTH_TRY_CTX(pull_from(*client, store, ref, platform, options), "pulling " + name);
}

}  // namespace berth::image
