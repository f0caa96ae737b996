// OCI image layout directories and oci-archive tars (a layout in a tar), in and out.
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>

#include "base/file.h"
#include "base/scope_guard.h"
#include "base/strings.h"
#include "image/archive/archive.h"
#include "image/archive/graph.h"
#include "image/archive/store_io.h"
#include "image/archive/tar_io.h"

namespace berth::image {
namespace {

constexpr size_t kMaxJson = 64 << 20;
constexpr std::string_view kLayoutFile = R"({"imageLayoutVersion":"1.0.0"})";

std::string name_of(const Descriptor& d) {
    auto it = d.annotations.find(std::string(kContainerdNameAnnotation));
    if (it != d.annotations.end() && !it->second.empty()) return it->second;
    it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it != d.annotations.end()) return it->second;
    return {};
}

// The tag of a normalized name ("latest" of "docker.io/library/busybox:latest"); empty when
// the name has none.
std::string tag_of(const std::string& name) {
    std::string n = name.substr(0, name.find('@'));
    size_t slash = n.rfind('/');
    size_t colon = n.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return {};
    return n.substr(colon + 1);
}

Result<Index> parse_index_file(const std::string& text, const std::string& where) {
    return BERTH_TRY_CTX(parse_index(text), where);
}

// Imports what `d` reaches from a layout directory; an index may name manifests the layout
// does not hold (other platforms), which are skipped.
Result<void> import_from_dir(ContentStore& store, const std::string& dir, const Descriptor& d,
                             std::set<Digest>& done) {
    if (!done.insert(d.digest).second) return {};
    if (!store.has(d.digest)) {
        std::string path = path_join(dir, "blobs/" + d.digest.algorithm + "/" + d.digest.hex);
        auto fd = open_fd(path, O_RDONLY);
        if (!fd.ok()) return std::move(fd).error().wrap("importing " + d.digest.str());
        BERTH_TRY(store_from_fd(store, *fd, d, path));
    }
    switch (kind_of(d.media_type)) {
        case Kind::Index: {
            Index index = BERTH_TRY_CTX(parse_index(BERTH_TRY(store.read(d.digest))),
                                        "index " + d.digest.str());
            for (const auto& m : index.manifests) {
                std::string path =
                    path_join(dir, "blobs/" + m.digest.algorithm + "/" + m.digest.hex);
                if (!store.has(m.digest) && !path_exists(path)) continue;
                BERTH_TRY(import_from_dir(store, dir, m, done));
            }
            break;
        }
        case Kind::Manifest: {
            Manifest m = BERTH_TRY_CTX(parse_manifest(BERTH_TRY(store.read(d.digest))),
                                       "manifest " + d.digest.str());
            BERTH_TRY(import_from_dir(store, dir, m.config, done));
            for (const auto& l : m.layers) BERTH_TRY(import_from_dir(store, dir, l, done));
            break;
        }
        default:
            break;
    }
    return {};
}

// Checks that what `d` reaches is in the store (after an oci-archive's blobs went in), allowing
// an index's missing entries as import_from_dir does.
Result<void> check_present(const ContentStore& store, const Descriptor& d, bool optional) {
    if (!store.has(d.digest)) {
        if (optional) return {};
        return Error(ENOENT) << "blob " << d.digest.str() << " (" << d.media_type
                             << ") is missing from the archive";
    }
    switch (kind_of(d.media_type)) {
        case Kind::Index: {
            Index index = BERTH_TRY_CTX(parse_index(BERTH_TRY(store.read(d.digest))),
                                        "index " + d.digest.str());
            for (const auto& m : index.manifests) BERTH_TRY(check_present(store, m, true));
            break;
        }
        case Kind::Manifest: {
            Manifest m = BERTH_TRY_CTX(parse_manifest(BERTH_TRY(store.read(d.digest))),
                                       "manifest " + d.digest.str());
            BERTH_TRY(check_present(store, m.config, false));
            for (const auto& l : m.layers) BERTH_TRY(check_present(store, l, false));
            break;
        }
        default:
            break;
    }
    return {};
}

std::vector<NamedImage> named_images(const Index& index) {
    std::vector<NamedImage> out;
    for (const auto& m : index.manifests) out.emplace_back(name_of(m), m);
    return out;
}

// Where the exporters put files: a directory or a tar.
class LayoutSink {
  public:
    virtual ~LayoutSink() = default;
    virtual bool has_blob(const Digest& d) = 0;
    virtual Result<void> put_blob(const ContentStore& store, const Descriptor& d) = 0;
    virtual Result<void> put_file(const std::string& name, std::string_view data) = 0;
};

class DirSink : public LayoutSink {
  public:
    explicit DirSink(std::string dir) : dir_(std::move(dir)) {}
    bool has_blob(const Digest& d) override { return path_exists(blob_path(d)); }
    Result<void> put_blob(const ContentStore& store, const Descriptor& d) override {
        std::string path = blob_path(d.digest);
        BERTH_TRY(mkdir_p(path_dirname(path)));
        std::string tmp = path + ".tmp";
        UniqueFd out = BERTH_TRY(open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
        auto r = blob_to_sink(store, d.digest,
                              [&](std::string_view data) { return write_all(out, data); });
        if (!r.ok() || ::rename(tmp.c_str(), path.c_str()) != 0) {
            Error e = r.ok() ? (ErrnoError() << "renaming `" << tmp << "`") : r.error();
            ::unlink(tmp.c_str());
            return e;
        }
        return {};
    }
    Result<void> put_file(const std::string& name, std::string_view data) override {
        return write_file_atomic(path_join(dir_, name), data);
    }

  private:
    std::string blob_path(const Digest& d) const {
        return path_join(dir_, "blobs/" + d.algorithm + "/" + d.hex);
    }
    std::string dir_;
};

class TarSink : public LayoutSink {
  public:
    explicit TarSink(tar::Writer& w) : w_(w) {}
    bool has_blob(const Digest& d) override { return written_.count(d) != 0; }
    Result<void> put_blob(const ContentStore& store, const Descriptor& d) override {
        if (dirs_.insert(d.digest.algorithm).second) {
            if (dirs_.size() == 1) BERTH_TRY(w_.add_dir("blobs"));
            BERTH_TRY(w_.add_dir("blobs/" + d.digest.algorithm));
        }
        UniqueFd fd = BERTH_TRY(store.open_blob(d.digest));
        struct stat st;
        if (fstat(fd.get(), &st) != 0) return ErrnoError() << "stat of blob " << d.digest.str();
        BERTH_TRY(w_.add_file_from_fd("blobs/" + d.digest.algorithm + "/" + d.digest.hex, fd,
                                      st.st_size));
        written_.insert(d.digest);
        return {};
    }
    Result<void> put_file(const std::string& name, std::string_view data) override {
        return w_.add_file(name, data);
    }

  private:
    tar::Writer& w_;
    std::set<Digest> written_;
    std::set<std::string> dirs_;
};

// The platform of a manifest, from its config, for the index entry.
std::optional<Platform> platform_of(const ContentStore& store, const Descriptor& d) {
    if (kind_of(d.media_type) != Kind::Manifest) return std::nullopt;
    auto text = store.read(d.digest);
    if (!text.ok()) return std::nullopt;
    auto m = parse_manifest(*text);
    if (!m.ok()) return std::nullopt;
    auto ctext = store.read(m->config.digest);
    if (!ctext.ok()) return std::nullopt;
    auto c = parse_image_config(*ctext);
    if (!c.ok() || c->architecture.empty()) return std::nullopt;
    return Platform{c->os.empty() ? "linux" : c->os, c->architecture, c->variant};
}

Result<void> export_layout(const ContentStore& store, const std::vector<NamedImage>& images,
                           LayoutSink& sink, Index index) {
    index.schema_version = 2;
    index.media_type = std::string(media::kOciIndex);
    for (const auto& [name, target] : images) {
        Descriptor d = BERTH_TRY_CTX(exportable_descriptor(store, target),
                                     "exporting " + (name.empty() ? target.digest.str() : name));
        auto blobs = BERTH_TRY_CTX(reachable_blobs(store, d),
                                   "exporting " + (name.empty() ? d.digest.str() : name));
        for (const auto& b : blobs) {
            if (!sink.has_blob(b.digest)) BERTH_TRY(sink.put_blob(store, b));
        }
        Descriptor entry;
        entry.media_type = d.media_type;
        entry.digest = d.digest;
        entry.size = d.size;
        entry.platform = d.platform ? d.platform : platform_of(store, d);
        if (!name.empty()) {
            std::string tag = tag_of(name);
            if (!tag.empty()) entry.annotations[std::string(kRefNameAnnotation)] = tag;
            entry.annotations[std::string(kContainerdNameAnnotation)] = name;
            // A name exported again replaces its older entry. (A named copy: clang before 16
            // cannot capture a structured binding.)
            const std::string& wanted = name;
            std::erase_if(index.manifests,
                          [&](const Descriptor& old) { return name_of(old) == wanted; });
        }
        index.manifests.push_back(std::move(entry));
    }
    BERTH_TRY(sink.put_file("oci-layout", kLayoutFile));
    return sink.put_file("index.json", index_to_json(index));
}

}  // namespace

Result<std::vector<NamedImage>> import_oci_layout(ContentStore& store, const std::string& dir) {
    std::string layout = BERTH_TRY_CTX(read_file(path_join(dir, "oci-layout")),
                                       "`" + dir + "` is not an OCI image layout");
    (void)layout;
    std::string index_path = path_join(dir, "index.json");
    std::string text = BERTH_TRY(read_file(index_path));
    Index index = BERTH_TRY(parse_index_file(text, index_path));
    std::set<Digest> done;
    for (const auto& m : index.manifests) {
        BERTH_TRY_CTX(import_from_dir(store, dir, m, done), "importing from `" + dir + "`");
    }
    return named_images(index);
}

Result<std::vector<NamedImage>> import_oci_archive(ContentStore& store,
                                                   const std::string& tar_path) {
    // One pass: every blobs/<alg>/<hex> entry goes into the store, verified against its name;
    // index.json is kept; then everything the index reaches must be there.
    tar::Reader r = BERTH_TRY(tar::Reader::open_file(tar_path));
    std::optional<std::string> index_text;
    bool has_layout = false;
    while (BERTH_TRY(r.next())) {
        const std::string& p = r.path();
        if (r.type() != AE_IFREG) continue;
        if (p == "index.json") {
            index_text = BERTH_TRY(r.read_all(kMaxJson));
        } else if (p == "oci-layout") {
            has_layout = true;
        } else if (starts_with(p, "blobs/")) {
            auto parts = split(p, '/');
            if (parts.size() != 3) continue;
            auto d = Digest::parse(parts[1] + ":" + parts[2]);
            if (!d.ok()) {
                return std::move(d).error().wrap("entry `" + p + "` of `" + tar_path + "`");
            }
            if (store.has(*d)) continue;
            BERTH_TRY(store_from_entry(store, r, *d));
        }
    }
    if (!index_text || !has_layout) {
        return Error(EINVAL) << "`" << tar_path << "` is not an oci-archive (no "
                             << (index_text ? "oci-layout" : "index.json") << ")";
    }
    Index index = BERTH_TRY(parse_index_file(*index_text, tar_path + ": index.json"));
    for (const auto& m : index.manifests) {
        BERTH_TRY_CTX(check_present(store, m, false), "importing `" + tar_path + "`");
    }
    return named_images(index);
}

Result<void> export_oci_layout(const ContentStore& store, const std::vector<NamedImage>& images,
                               const std::string& dir) {
    BERTH_TRY(mkdir_p(path_join(dir, "blobs/sha256")));
    Index index;
    std::string index_path = path_join(dir, "index.json");
    if (path_exists(index_path)) {  // adding to an existing layout
        index = BERTH_TRY(parse_index_file(BERTH_TRY(read_file(index_path)), index_path));
    }
    DirSink sink(dir);
    BERTH_TRY_CTX(export_layout(store, images, sink, std::move(index)),
                  "exporting to `" + dir + "`");
    return {};
}

Result<void> export_oci_archive(const ContentStore& store, const std::vector<NamedImage>& images,
                                const std::string& tar_path) {
    return tar::write_tar_atomically(tar_path, [&](tar::Writer& w) -> Result<void> {
        TarSink sink(w);
        return export_layout(store, images, sink, Index{});
    });
}

}  // namespace berth::image
