// docker-archive tars (what `docker save` and `podman save` write): manifest.json naming each
// image's config and layer tars, in and out.
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

#include "base/file.h"
#include "base/strings.h"
#include "image/archive/archive.h"
#include "image/archive/docker_manifest.h"
#include "image/archive/graph.h"
#include "image/archive/store_io.h"
#include "image/archive/tar_io.h"

namespace berth::image {
namespace {

constexpr size_t kMaxJson = 64 << 20;

// The digest a path's name promises: "blobs/sha256/<hex>" (docker 25+, OCI layout), or
// "<hex>.json" for a config (docker and podman name configs by their digest).
std::optional<Digest> digest_in_path(const std::string& path) {
    auto parts = split(path, '/');
    if (parts.size() == 3 && parts[0] == "blobs") {
        auto d = Digest::parse(parts[1] + ":" + parts[2]);
        if (d.ok()) return *d;
    }
    if (parts.size() == 1 && path.size() == 64 + 5 && path.ends_with(".json")) {
        auto d = Digest::parse("sha256:" + path.substr(0, 64));
        if (d.ok()) return *d;
    }
    return std::nullopt;
}

std::string resolve_link(const std::string& entry, const std::string& target) {
    std::string base = target.starts_with("/") ? "" : "/" + path_dirname("/" + entry);
    std::string cleaned = path_clean(base + "/" + target);
    return cleaned == "/" ? "" : cleaned.substr(1);
}

}  // namespace

Result<std::vector<NamedImage>> import_docker_archive(ContentStore& store,
                                                      const std::string& tar_path) {
    // Pass 1: manifest.json and the symlinks older `docker save` uses to share layers.
    std::optional<std::string> manifest_text;
    std::map<std::string, std::string> links;
    {
        tar::Reader r = BERTH_TRY(tar::Reader::open_file(tar_path));
        while (BERTH_TRY(r.next())) {
            if (r.type() == AE_IFREG && r.path() == "manifest.json") {
                manifest_text = BERTH_TRY(r.read_all(kMaxJson));
            } else if (r.type() == AE_IFLNK) {
                links[r.path()] = resolve_link(r.path(), r.symlink());
            } else if (r.type() == AE_IFREG && !r.hardlink().empty()) {
                links[r.path()] = resolve_link("", r.hardlink());
            }
        }
    }
    if (!manifest_text) {
        return Error(EINVAL) << "`" << tar_path << "` is not a docker-archive (no manifest.json)";
    }
    auto entries = BERTH_TRY_CTX(parse_docker_manifest(*manifest_text), tar_path);
    auto resolve = [&](std::string p) {
        for (int i = 0; i < 16; ++i) {
            auto it = links.find(p);
            if (it == links.end()) break;
            p = it->second;
        }
        return p;
    };
    std::set<std::string> wanted;
    for (const auto& e : entries) {
        wanted.insert(resolve(e.config));
        for (const auto& l : e.layers) wanted.insert(resolve(l));
    }

    // Pass 2: the configs and layers into the store.
    std::map<std::string, StoredBlob> stored;
    {
        tar::Reader r = BERTH_TRY(tar::Reader::open_file(tar_path));
        while (BERTH_TRY(r.next())) {
            if (r.type() != AE_IFREG || !r.hardlink().empty()) continue;
            if (!wanted.count(r.path()) || stored.count(r.path())) continue;
            auto expected = digest_in_path(r.path());
            if (expected && store.has(*expected)) {
                auto size = BERTH_TRY(store.size(*expected));
                // Compression of an already stored blob: sniffed from its first bytes.
                UniqueFd fd = BERTH_TRY(store.open_blob(*expected));
                char head[8];
                ssize_t n = ::pread(fd.get(), head, sizeof(head), 0);
                stored[r.path()] =
                    StoredBlob{*expected, static_cast<int64_t>(size),
                               tar::sniff_compression(std::string_view(head, n > 0 ? n : 0))};
                continue;
            }
            stored[r.path()] = BERTH_TRY(store_from_entry(store, r, expected));
        }
    }
    auto find = [&](const std::string& path, const std::string& where) -> Result<StoredBlob> {
        auto it = stored.find(resolve(path));
        if (it == stored.end()) {
            return Error(ENOENT) << where << ": `" << path << "` is not in `" << tar_path << "`";
        }
        return it->second;
    };

    std::vector<NamedImage> out;
    for (size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        std::string where = "manifest.json[" + std::to_string(i) + "]";
        StoredBlob config_blob = BERTH_TRY(find(e.config, where + ".Config"));
        std::string config_text = BERTH_TRY(store.read(config_blob.digest));
        ImageConfig config = BERTH_TRY_CTX(parse_image_config(config_text), where + ".Config");
        if (config.diff_ids.size() != e.layers.size()) {
            return Error(EINVAL) << where << ".Layers: " << e.layers.size()
                                 << " layers but the config's rootfs.diff_ids has "
                                 << config.diff_ids.size();
        }
        Manifest m;
        m.media_type = std::string(media::kOciManifest);
        m.config.media_type = std::string(media::kOciConfig);
        m.config.digest = config_blob.digest;
        m.config.size = config_blob.size;
        for (size_t l = 0; l < e.layers.size(); ++l) {
            std::string lwhere = where + ".Layers[" + std::to_string(l) + "]";
            StoredBlob layer = BERTH_TRY(find(e.layers[l], lwhere));
            // The layer's uncompressed digest must be the config's diff ID.
            Digest diff_id = layer.digest;
            if (layer.compression != Compression::None) {
                diff_id = BERTH_TRY_CTX(diff_id_of_blob(store, layer.digest), lwhere);
            }
            if (diff_id != config.diff_ids[l]) {
                return Error(EINVAL) << lwhere << ": `" << e.layers[l] << "` has diff ID "
                                     << diff_id.str() << " but the config's rootfs.diff_ids[" << l
                                     << "] is " << config.diff_ids[l].str();
            }
            Descriptor ld;
            ld.media_type = oci_layer_media_type(layer.compression);
            ld.digest = layer.digest;
            ld.size = layer.size;
            m.layers.push_back(std::move(ld));
        }
        std::string mtext = manifest_to_json(m);
        Descriptor md;
        md.media_type = std::string(media::kOciManifest);
        md.digest = BERTH_TRY(store.write_blob(mtext));
        md.size = static_cast<int64_t>(mtext.size());
        if (!config.architecture.empty()) {
            md.platform = Platform{config.os.empty() ? "linux" : config.os, config.architecture,
                                   config.variant};
        }
        if (e.repo_tags.empty()) out.emplace_back("", md);
        for (const auto& tag : e.repo_tags) out.emplace_back(tag, md);
    }
    return out;
}

namespace {

// A layer's uncompressed tar in an unlinked temporary file next to the output.
Result<UniqueFd> decompressed_copy(const ContentStore& store, const Digest& d,
                                   const std::string& near) {
    std::string dir = path_dirname(near);
    if (dir.empty()) dir = ".";
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) fd = ::open("/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError() << "creating a temporary file in `" << dir << "`";
    UniqueFd out(fd);
    UniqueFd blob = BERTH_TRY(store.open_blob(d));
    BERTH_TRY(tar::decompress_fd(blob, "blob " + d.str(),
                                 [&](std::string_view data) { return write_all(out, data); }));
    if (::lseek(out.get(), 0, SEEK_SET) != 0) return ErrnoError() << "rewinding a temporary file";
    return out;
}

std::pair<std::string, std::string> repo_and_tag(const std::string& name) {
    std::string n = name.substr(0, name.find('@'));
    size_t slash = n.rfind('/');
    size_t colon = n.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
        return {n, "latest"};
    }
    return {n.substr(0, colon), n.substr(colon + 1)};
}

}  // namespace

Result<void> export_docker_archive(const ContentStore& store, const std::vector<NamedImage>& images,
                                   const std::string& tar_path) {
    // One manifest.json entry per manifest, carrying all the names given for it.
    struct Item {
        ManifestInfo info;
        ImageConfig config;
        std::vector<std::string> names;
    };
    std::vector<Item> items;
    for (const auto& [name, target] : images) {
        std::string what = "exporting " + (name.empty() ? target.digest.str() : name);
        ManifestInfo info = BERTH_TRY_CTX(platform_manifest(store, target, host_platform()), what);
        auto it = std::find_if(items.begin(), items.end(), [&](const Item& i) {
            return i.info.desc.digest == info.desc.digest;
        });
        if (it == items.end()) {
            std::string ctext = BERTH_TRY_CTX(store.read(info.manifest.config.digest), what);
            ImageConfig config = BERTH_TRY_CTX(parse_image_config(ctext), what);
            if (config.diff_ids.size() != info.manifest.layers.size()) {
                return Error(EINVAL)
                       << what << ": the manifest has " << info.manifest.layers.size()
                       << " layers but the config's rootfs.diff_ids " << config.diff_ids.size();
            }
            items.push_back(Item{std::move(info), std::move(config), {}});
            it = items.end() - 1;
        }
        if (!name.empty()) it->names.push_back(name);
    }

    return tar::write_tar_atomically(tar_path, [&](tar::Writer& w) -> Result<void> {
        std::set<std::string> written;
        std::vector<DockerArchiveEntry> entries;
        Json repositories = Json::object();
        for (const auto& item : items) {
            DockerArchiveEntry e;
            // Layers as docker save writes them: uncompressed, named by diff ID.
            for (size_t l = 0; l < item.info.manifest.layers.size(); ++l) {
                const Descriptor& layer = item.info.manifest.layers[l];
                std::string file = item.config.diff_ids[l].hex + ".tar";
                e.layers.push_back(file);
                if (!written.insert(file).second) continue;
                Compression c = BERTH_TRY(layer_compression(layer.media_type));
                UniqueFd fd;
                if (c == Compression::None) {
                    fd = BERTH_TRY(store.open_blob(layer.digest));
                } else {
                    fd = BERTH_TRY(decompressed_copy(store, layer.digest, tar_path));
                }
                struct stat st;
                if (fstat(fd.get(), &st) != 0) return ErrnoError() << "stat of layer " << file;
                BERTH_TRY(w.add_file_from_fd(file, fd, st.st_size));
            }
            e.config = item.info.manifest.config.digest.hex + ".json";
            if (written.insert(e.config).second) {
                BERTH_TRY(
                    w.add_file(e.config, BERTH_TRY(store.read(item.info.manifest.config.digest))));
            }
            e.repo_tags = item.names;
            for (const auto& name : item.names) {
                auto [repo, tag] = repo_and_tag(name);
                if (!e.layers.empty()) {
                    repositories[repo][tag] = item.config.diff_ids.back().hex;
                }
            }
            entries.push_back(std::move(e));
        }
        BERTH_TRY(w.add_file("manifest.json", docker_manifest_to_json(entries)));
        return w.add_file("repositories",
                          repositories.dump(-1, ' ', false, Json::error_handler_t::replace));
    });
}

}  // namespace berth::image
