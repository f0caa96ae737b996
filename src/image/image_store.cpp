#include "image/image_store.h"

#include <fcntl.h>
#include <sys/file.h>

#include <atomic>
#include <set>
#include <system_error>
#include <thread>

#include "base/clock.h"
#include "base/file.h"
#include "db/db.h"
#include "image/reference.h"
#include "image/unpack.h"

namespace berth::image {

namespace {

constexpr std::string_view kComponent = "images";
// Schema steps of the "images" component (db::Db::migrate): append, never edit.
const std::vector<std::string_view> kSchema = {
    "CREATE TABLE images ("
    "  name TEXT PRIMARY KEY,"
    "  digest TEXT NOT NULL,"      // the target's digest, for lookups by digest
    "  descriptor TEXT NOT NULL,"  // the whole target descriptor as JSON
    "  created TEXT NOT NULL);"
    "CREATE INDEX images_by_digest ON images(digest);",
};

constexpr int kMaxIndexDepth = 4;

Result<std::string> normalize_name(const std::string& name) {
    auto ref = BERTH_TRY(Reference::parse(name));
    return ref.str();
}

bool is_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return !s.empty();
}

}  // namespace

struct ImageStore::Impl {
    std::string root;
    mutable db::Db db;  // reads from const methods too
    ContentStore content;
    SnapshotStore snapshots;

    // The blob `desc` names, checked for presence, size and digest.
    Result<std::string> read_blob(const Descriptor& desc, std::string_view what) const {
        if (!content.has(desc.digest))
            return Error(ENOENT) << what << " blob " << desc.digest.str()
                                 << " is missing from the content store";
        uint64_t size = BERTH_TRY(content.size(desc.digest));
        if (desc.size >= 0 && size != uint64_t(desc.size))
            return Error(EINVAL) << what << " blob " << desc.digest.str() << " has " << size
                                 << " bytes, its descriptor says " << desc.size;
        return content.read(desc.digest);
    }

    Result<ResolvedImage> load(const Descriptor& desc, const Platform& platform, int depth) const {
        switch (kind_of(desc.media_type)) {
            case Kind::Index: {
                if (depth >= kMaxIndexDepth)
                    return Error(EINVAL) << "index " << desc.digest.str() << ": nested too deeply";
                std::string text = BERTH_TRY(read_blob(desc, "index"));
                auto index = parse_index(text);
                if (!index.ok()) return std::move(index).error().wrap(desc.digest.str());
                Descriptor child =
                    BERTH_TRY_CTX(select_platform(*index, platform), "index " + desc.digest.str());
                return load(child, platform, depth + 1);
            }
            case Kind::Manifest: {
                ResolvedImage img;
                img.manifest_desc = desc;
                std::string text = BERTH_TRY(read_blob(desc, "manifest"));
                auto manifest = parse_manifest(text);
                if (!manifest.ok()) return std::move(manifest).error().wrap(desc.digest.str());
                img.manifest = std::move(manifest).value();
                std::string config_text = BERTH_TRY_CTX(read_blob(img.manifest.config, "config"),
                                                        "manifest " + desc.digest.str());
                auto config = parse_image_config(config_text);
                if (!config.ok())
                    return std::move(config).error().wrap(img.manifest.config.digest.str());
                img.config = std::move(config).value();
                if (img.config.diff_ids.size() != img.manifest.layers.size())
                    return Error(EINVAL)
                           << "manifest " << desc.digest.str() << " has "
                           << img.manifest.layers.size() << " layers but its config lists "
                           << img.config.diff_ids.size() << " diff IDs";
                img.chain_ids = chain_ids(img.config.diff_ids);
                return img;
            }
            default:
                return Error(EINVAL) << "image " << desc.digest.str()
                                     << ": unsupported media type `" << desc.media_type << "`";
        }
    }

    Result<std::vector<ImageRecord>> query(std::string_view sql, const std::string& arg) const {
        auto st = BERTH_TRY(db.prepare(sql));
        if (!arg.empty()) BERTH_TRY(st.bind(1, arg));
        std::vector<ImageRecord> out;
        while (BERTH_TRY(st.step())) {
            ImageRecord rec;
            rec.name = st.column_text(0);
            Json j = Json::parse(st.column_text(1), nullptr, false);
            auto desc = parse_descriptor(j, "images.descriptor");
            if (!desc.ok()) return std::move(desc).error().wrap("image `" + rec.name + "`");
            rec.target = std::move(desc).value();
            rec.created = st.column_text(2);
            out.push_back(std::move(rec));
        }
        return out;
    }

    // What `text` is when no descriptor says (a blob found by digest alone).
    static std::string sniff_media_type(std::string_view text) {
        Json j = Json::parse(text, nullptr, false);
        if (!j.is_object()) return "";
        auto mt = j.find("mediaType");
        if (mt != j.end() && mt->is_string()) return mt->get<std::string>();
        if (j.contains("manifests")) return std::string(media::kOciIndex);
        if (j.contains("config") && j.contains("layers")) return std::string(media::kOciManifest);
        return "";
    }

    Result<void> check_complete(const Descriptor& target, int depth) const {
        switch (kind_of(target.media_type)) {
            case Kind::Index: {
                if (depth >= kMaxIndexDepth)
                    return Error(EINVAL)
                           << "index " << target.digest.str() << ": nested too deeply";
                std::string text = BERTH_TRY(read_blob(target, "index"));
                auto index = parse_index(text);
                if (!index.ok()) return std::move(index).error().wrap(target.digest.str());
                size_t present = 0;
                for (const auto& child : index->manifests) {
                    Kind k = kind_of(child.media_type);
                    if ((k != Kind::Manifest && k != Kind::Index) || !content.has(child.digest))
                        continue;  // a pull fetches the platforms it needs, not all
                    BERTH_TRY(check_complete(child, depth + 1));
                    ++present;
                }
                if (present == 0)
                    return Error(ENOENT) << "index " << target.digest.str()
                                         << ": none of its manifests is in the content store";
                return {};
            }
            case Kind::Manifest: {
                std::string text = BERTH_TRY(read_blob(target, "manifest"));
                auto manifest = parse_manifest(text);
                if (!manifest.ok()) return std::move(manifest).error().wrap(target.digest.str());
                std::string ctx = "manifest " + target.digest.str();
                std::string config_text = BERTH_TRY_CTX(read_blob(manifest->config, "config"), ctx);
                auto config = parse_image_config(config_text);
                if (!config.ok())
                    return std::move(config).error().wrap(manifest->config.digest.str());
                if (config->diff_ids.size() != manifest->layers.size())
                    return Error(EINVAL) << ctx << " has " << manifest->layers.size()
                                         << " layers but its config lists "
                                         << config->diff_ids.size() << " diff IDs";
                for (const auto& layer : manifest->layers) {
                    if (!content.has(layer.digest))
                        return Error(ENOENT) << ctx << ": layer blob " << layer.digest.str()
                                             << " is missing from the content store";
                    uint64_t size = BERTH_TRY(content.size(layer.digest));
                    if (size != uint64_t(layer.size))
                        return Error(EINVAL)
                               << ctx << ": layer blob " << layer.digest.str() << " has " << size
                               << " bytes, the manifest says " << layer.size;
                }
                return {};
            }
            default:
                return Error(EINVAL)
                       << "image " << target.digest.str() << ": unsupported media type `"
                       << target.media_type << "` (want a manifest or an index)";
        }
    }

    // Adds what `desc` reaches to the marked sets. Absent blobs mark nothing (an index's other
    // platforms); a present one that does not parse stops gc rather than guess.
    Result<void> mark(const Descriptor& desc, std::set<Digest>& blobs, std::set<Digest>& snaps,
                      int depth) const {
        if (!content.has(desc.digest)) return {};
        blobs.insert(desc.digest);
        Kind kind = kind_of(desc.media_type);
        if (kind == Kind::Index) {
            if (depth >= kMaxIndexDepth) return {};
            auto index =
                BERTH_TRY_CTX(parse_index(BERTH_TRY(content.read(desc.digest))), desc.digest.str());
            for (const auto& child : index.manifests)
                BERTH_TRY(mark(child, blobs, snaps, depth + 1));
        } else if (kind == Kind::Manifest) {
            auto m = BERTH_TRY_CTX(parse_manifest(BERTH_TRY(content.read(desc.digest))),
                                   desc.digest.str());
            for (const auto& layer : m.layers) blobs.insert(layer.digest);
            if (!content.has(m.config.digest)) return {};
            blobs.insert(m.config.digest);
            auto config =
                BERTH_TRY_CTX(parse_image_config(BERTH_TRY(content.read(m.config.digest))),
                              m.config.digest.str());
            for (const auto& c : chain_ids(config.diff_ids)) snaps.insert(c);
        }
        return {};
    }
};

Result<ImageStore> ImageStore::open(const std::string& root) {
    BERTH_TRY(mkdir_p(root, 0700));
    auto db = BERTH_TRY(db::Db::open(path_join(root, "berth.db")));
    BERTH_TRY(db.migrate(kComponent, kSchema));
    auto content = BERTH_TRY(ContentStore::open(root));
    auto snapshots = BERTH_TRY(SnapshotStore::open(root));
    ImageStore s;
    s.impl_ =
        std::make_shared<Impl>(Impl{root, std::move(db), std::move(content), std::move(snapshots)});
    return s;
}

ContentStore& ImageStore::content() {
    return impl_->content;
}
SnapshotStore& ImageStore::snapshots() {
    return impl_->snapshots;
}
db::Db& ImageStore::db() {
    return impl_->db;
}

Result<void> ImageStore::check_complete(const Descriptor& target) const {
    return impl_->check_complete(target, 0);
}

Result<void> ImageStore::set(const std::string& name, const Descriptor& target) {
    std::string normalized = BERTH_TRY(normalize_name(name));
    BERTH_TRY_CTX(impl_->check_complete(target, 0), "image `" + normalized + "`");
    std::string desc =
        descriptor_to_json(target).dump(-1, ' ', false, Json::error_handler_t::replace);
    return impl_->db.run(
        "INSERT INTO images(name, digest, descriptor, created) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, "
        "descriptor = excluded.descriptor, created = excluded.created",
        normalized, target.digest.str(), desc, now_rfc3339());
}

Result<std::optional<ImageRecord>> ImageStore::get(const std::string& name) const {
    std::string normalized = BERTH_TRY(normalize_name(name));
    auto recs = BERTH_TRY(
        impl_->query("SELECT name, descriptor, created FROM images WHERE name = ?", normalized));
    if (recs.empty()) return std::optional<ImageRecord>();
    return std::optional<ImageRecord>(std::move(recs.front()));
}

Result<std::vector<ImageRecord>> ImageStore::list() const {
    return impl_->query("SELECT name, descriptor, created FROM images ORDER BY name", "");
}

Result<void> ImageStore::remove(const std::string& name) {
    std::string normalized = BERTH_TRY(normalize_name(name));
    BERTH_TRY(impl_->db.run("DELETE FROM images WHERE name = ?", normalized));
    if (impl_->db.changes() == 0) return Error(ENOENT) << "image `" << normalized << "` not known";
    return {};
}

Result<ResolvedImage> ImageStore::resolve(const std::string& ref, const Platform& platform) const {
    // 1. A name (docker and podman look names up before IDs: an image may be called "abc").
    auto parsed = Reference::parse(ref);
    if (parsed.ok()) {
        auto recs = BERTH_TRY(impl_->query(
            "SELECT name, descriptor, created FROM images WHERE name = ?", parsed->str()));
        if (!recs.empty())
            return BERTH_TRY_CTX(impl_->load(recs.front().target, platform, 0),
                                 "image `" + recs.front().name + "`");
        if (!parsed->digest.empty()) {
            // name@digest: any record with that target, else the blob itself.
            auto by_digest = BERTH_TRY(impl_->query(
                "SELECT name, descriptor, created FROM images WHERE digest = ?", parsed->digest));
            if (!by_digest.empty()) return impl_->load(by_digest.front().target, platform, 0);
        }
    }
    // 2. An image ID (the config digest), a manifest or index digest, or a prefix of an ID.
    std::string_view id = ref;
    if (id.starts_with("sha256:")) id.remove_prefix(7);
    bool full = id.size() == 64;
    if (!is_hex(id) || id.size() > 64 || (id.size() < 3 && !full)) {
        if (parsed.ok() && !parsed->digest.empty())
            id = std::string_view(parsed->digest).substr(7);
        else if (!parsed.ok() && !is_hex(id))
            return std::move(parsed).error();
        else
            return Error(ENOENT) << "image `" << ref << "` not known";
        full = true;
    }
    std::optional<ResolvedImage> found;
    for (const auto& rec : BERTH_TRY(list())) {
        auto img = impl_->load(rec.target, platform, 0);
        if (!img.ok()) continue;  // another platform's image, or broken: not this one
        bool match = img->id().hex.starts_with(id) ||
                     (full && (rec.target.digest.hex == id || img->manifest_desc.digest.hex == id));
        if (!match) continue;
        if (found && found->id() != img->id())
            return Error(EINVAL) << "image ID prefix `" << ref
                                 << "` is ambiguous: " << found->id().str() << ", "
                                 << img->id().str();
        if (!found) found = std::move(img).value();
    }
    if (found) return std::move(*found);
    if (full) {
        // An image nothing names any more (dangling), still in the content store.
        Digest d{"sha256", std::string(id)};
        if (impl_->content.has(d)) {
            std::string text = BERTH_TRY(impl_->content.read(d));
            std::string mt = Impl::sniff_media_type(text);
            Kind k = kind_of(mt);
            if (k == Kind::Manifest || k == Kind::Index)
                return impl_->load(Descriptor{mt, d, int64_t(text.size()), {}, {}, {}}, platform,
                                   0);
        }
    }
    return Error(ENOENT) << "image `" << ref << "` not known";
}

Result<std::vector<std::string>> ImageStore::names_of(const ResolvedImage& image,
                                                      const Platform& platform) const {
    std::vector<std::string> names;
    for (const auto& rec : BERTH_TRY(list())) {
        if (rec.target.digest == image.manifest_desc.digest) {
            names.push_back(rec.name);
            continue;
        }
        auto img = impl_->load(rec.target, platform, 0);
        if (img.ok() && img->id() == image.id()) names.push_back(rec.name);
    }
    return names;
}

Result<std::vector<std::string>> ImageStore::unpack(const ResolvedImage& image,
                                                    const UnpackOptions& o) {
    std::vector<std::string> dirs;
    const auto& layers = image.manifest.layers;
    if (layers.size() != image.chain_ids.size() || layers.size() != image.config.diff_ids.size())
        return Error(EINVAL) << "image " << image.id().str()
                             << ": layers, diff IDs and chain IDs differ in number";
    // Each layer unpacks into its own directory, independent of the others (the chain ID that
    // names it is known from the config), so they unpack side by side: decompression and
    // hashing are CPU-bound.
    auto unpack_one = [&](size_t i) -> Result<std::string> {
        const Descriptor& layer = layers[i];
        const Digest& want = image.config.diff_ids[i];
        Compression compression =
            BERTH_TRY_CTX(layer_compression(layer.media_type), "layer " + layer.digest.str());
        if (!impl_->content.has(layer.digest))
            return Error(ENOENT) << "layer blob " << layer.digest.str()
                                 << " is missing from the content store";
        auto fill = [&](const std::string& tmp) -> Result<void> {
            auto fd = BERTH_TRY(impl_->content.open_blob(layer.digest));
            Digest got = BERTH_TRY_CTX(unpack_layer(fd, compression, tmp, o),
                                       "unpacking layer " + layer.digest.str());
            if (got != want)
                return Error(EINVAL) << "layer " << i << " (" << layer.digest.str()
                                     << "): uncompressed content is " << got.str()
                                     << ", the config's diff ID is " << want.str();
            return {};
        };
        return impl_->snapshots.ensure(image.chain_ids[i], fill);
    };
    std::vector<std::optional<Result<std::string>>> results(layers.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i; (i = next.fetch_add(1)) < layers.size();) results[i].emplace(unpack_one(i));
    };
    size_t threads =
        std::min<size_t>(layers.size(), std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) {
        try {
            pool.emplace_back(worker);
        } catch (const std::system_error&) {
            break;  // fewer threads; this one still does the rest
        }
    }
    worker();
    for (auto& t : pool) t.join();
    for (auto& r : results) {
        if (!*r) return std::move(*r).error();
        dirs.push_back(std::move(**r));
    }
    return dirs;
}

Result<UniqueFd> ImageStore::write_lease() const {
    std::string path = path_join(impl_->root, "content.lock");
    auto fd = BERTH_TRY(open_fd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (::flock(fd.get(), LOCK_SH) != 0) return ErrnoError() << "flock `" << path << "`";
    return fd;
}

Result<ImageStore::GcResult> ImageStore::gc(const std::vector<Digest>& keep_snapshots) {
    std::string lock_path = path_join(impl_->root, "content.lock");
    auto lock = BERTH_TRY(open_fd(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (::flock(lock.get(), LOCK_EX) != 0) return ErrnoError() << "flock `" << lock_path << "`";

    std::set<Digest> blobs, snaps(keep_snapshots.begin(), keep_snapshots.end());
    for (const auto& rec : BERTH_TRY(list()))
        BERTH_TRY_CTX(impl_->mark(rec.target, blobs, snaps, 0),
                      "gc: image `" + rec.name + "` (remove it to let gc go on)");
    GcResult result;
    for (const auto& d : BERTH_TRY(impl_->content.list())) {
        if (blobs.count(d)) continue;
        auto size = impl_->content.size(d);
        auto r = impl_->content.remove(d);
        if (!r.ok()) {
            if (r.error().errno_value() == ENOENT) continue;
            return std::move(r).error().wrap("gc");
        }
        ++result.blobs_removed;
        if (size.ok()) result.bytes_freed += *size;
    }
    for (const auto& s : BERTH_TRY(impl_->snapshots.list())) {
        if (snaps.count(s)) continue;
        BERTH_TRY_CTX(impl_->snapshots.remove(s), "gc");
        ++result.snapshots_removed;
    }
    return result;
}

}  // namespace berth::image
