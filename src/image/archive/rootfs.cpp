#include "image/archive/rootfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <set>

#include "base/file.h"
#include "image/archive/store_io.h"
#include "image/archive/tar_io.h"

namespace berth::image {
namespace {

struct EntryFree {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
struct ResolverFree {
    void operator()(struct archive_entry_linkresolver* r) const {
        archive_entry_linkresolver_free(r);
    }
};

// Tar bytes fed to it are hashed (the diff ID) and gzip-compressed into the store.
class GzipLayerSink {
  public:
    static Result<GzipLayerSink> create(ContentStore& store) {
        GzipLayerSink s;
        s.writer_ = std::make_unique<ContentStore::Writer>(BERTH_TRY(store.writer()));
        ContentStore::Writer* w = s.writer_.get();
        s.gz_ = std::make_unique<tar::GzipStream>(
            BERTH_TRY(tar::GzipStream::to_sink([w](std::string_view d) { return w->write(d); })));
        return s;
    }
    Result<void> write(std::string_view data) {
        diff_.update(data);
        return gz_->write(data);
    }
    Result<LayerBlob> finish() {
        BERTH_TRY(gz_->close());
        LayerBlob out;
        out.desc.media_type = std::string(media::kOciLayerGzip);
        out.desc.size = static_cast<int64_t>(writer_->written());
        out.desc.digest = BERTH_TRY(writer_->commit(std::nullopt));
        out.diff_id = diff_.finish();
        return out;
    }

  private:
    GzipLayerSink() = default;
    std::unique_ptr<ContentStore::Writer> writer_;
    std::unique_ptr<tar::GzipStream> gz_;
    Sha256 diff_;
};

std::string now_rfc3339() {
    time_t t = time(nullptr);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

Result<LayerBlob> layer_from_directory(ContentStore& store, const std::string& dir) {
    if (!is_directory(dir)) return Error(ENOTDIR) << "`" << dir << "` is not a directory";
    GzipLayerSink layer = BERTH_TRY(GzipLayerSink::create(store));
    tar::Writer w = BERTH_TRY(tar::Writer::to_sink(
        [&](std::string_view d) { return layer.write(d); }, "layer of `" + dir + "`"));

    tar::ArchivePtr disk(archive_read_disk_new());
    archive_read_disk_set_standard_lookup(disk.get());
    archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
    if (archive_read_disk_open(disk.get(), dir.c_str()) != ARCHIVE_OK) {
        return Error(archive_errno(disk.get()))
               << "opening `" << dir << "`: " << archive_error_string(disk.get());
    }
    std::unique_ptr<struct archive_entry_linkresolver, ResolverFree> links(
        archive_entry_linkresolver_new());
    archive_entry_linkresolver_set_strategy(links.get(), archive_format(w.handle()));
    std::string prefix = path_clean(dir);
    if (prefix != "/") prefix += "/";
    std::unique_ptr<struct archive_entry, EntryFree> entry(archive_entry_new());
    std::vector<char> buf(1 << 20);
    for (;;) {
        archive_entry_clear(entry.get());
        int rc = archive_read_next_header2(disk.get(), entry.get());
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            return Error(archive_errno(disk.get()))
                   << "reading `" << dir << "`: " << archive_error_string(disk.get());
        }
        archive_read_disk_descend(disk.get());
        std::string path = path_clean(archive_entry_pathname(entry.get()));
        if (path == path_clean(dir)) continue;  // the root itself
        if (!path.starts_with(prefix)) continue;
        std::string rel = path.substr(prefix.size());
        if (archive_entry_filetype(entry.get()) == AE_IFSOCK) continue;
        archive_entry_set_pathname(entry.get(), rel.c_str());
        archive_entry_copy_sourcepath(entry.get(), path.c_str());
        struct archive_entry* out = archive_entry_clone(entry.get());
        struct archive_entry* spare = nullptr;
        archive_entry_linkify(links.get(), &out, &spare);
        std::unique_ptr<struct archive_entry, EntryFree> out_owner(out), spare_owner(spare);
        if (out == nullptr) continue;
        BERTH_TRY(w.write_header(out));
        if (archive_entry_filetype(out) != AE_IFREG || archive_entry_size(out) == 0) continue;
        for (;;) {
            la_ssize_t n = archive_read_data(disk.get(), buf.data(), buf.size());
            if (n < 0) {
                return Error(archive_errno(disk.get()))
                       << "reading `" << path << "`: " << archive_error_string(disk.get());
            }
            if (n == 0) break;
            BERTH_TRY(w.write_data(std::string_view(buf.data(), n)));
        }
    }
    BERTH_TRY(w.close());
    return layer.finish();
}

Result<LayerBlob> layer_from_tarball(ContentStore& store, const std::string& path) {
    UniqueFd fd = BERTH_TRY(open_fd(path, O_RDONLY));
    {
        // Refuse what is not a tar before storing anything.
        auto probe = tar::Reader::open_fd(fd, path);
        auto first = probe.ok() ? probe->next() : Result<bool>(probe.error());
        if (!first.ok()) {
            return std::move(first).error().wrap("`" + path + "` is not a tar archive");
        }
    }
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return ErrnoError() << "rewinding `" << path << "`";
    bool compressed = BERTH_TRY(tar::is_compressed(fd, path));
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return ErrnoError() << "rewinding `" << path << "`";
    // An uncompressed tar goes in as it is: its digest is its diff ID.
    if (!compressed) {
        auto w = BERTH_TRY(store.writer());
        BERTH_TRY(copy_fd_to_writer(fd, w, path));
        LayerBlob out;
        out.desc.media_type = std::string(media::kOciLayer);
        out.desc.size = static_cast<int64_t>(w.written());
        out.desc.digest = BERTH_TRY(w.commit(std::nullopt));
        out.diff_id = out.desc.digest;
        return out;
    }
    GzipLayerSink layer = BERTH_TRY(GzipLayerSink::create(store));
    BERTH_TRY(tar::decompress_fd(fd, path, [&](std::string_view d) { return layer.write(d); }));
    return layer.finish();
}

Result<Descriptor> make_image(ContentStore& store, const std::vector<LayerBlob>& layers,
                              const NewImageConfig& c) {
    Platform p = c.platform.architecture.empty() ? host_platform() : c.platform;
    std::string created = c.created.empty() ? now_rfc3339() : c.created;
    Json cfg = Json::object();
    if (!c.env.empty()) cfg["Env"] = c.env;
    if (!c.entrypoint.empty()) cfg["Entrypoint"] = c.entrypoint;
    if (!c.cmd.empty()) cfg["Cmd"] = c.cmd;
    if (!c.working_dir.empty()) cfg["WorkingDir"] = c.working_dir;
    if (!c.user.empty()) cfg["User"] = c.user;
    if (!c.stop_signal.empty()) cfg["StopSignal"] = c.stop_signal;
    if (!c.labels.empty()) cfg["Labels"] = c.labels;
    for (const auto& port : c.exposed_ports) cfg["ExposedPorts"][port] = Json::object();
    for (const auto& v : c.volumes) cfg["Volumes"][v] = Json::object();
    Json diff_ids = Json::array();
    for (const auto& l : layers) diff_ids.push_back(l.diff_id.str());
    Json history = Json::object({{"created", created}});
    if (!c.created_by.empty()) history["created_by"] = c.created_by;
    if (!c.comment.empty()) history["comment"] = c.comment;
    Json config = {{"architecture", p.architecture},
                   {"os", p.os.empty() ? "linux" : p.os},
                   {"created", created},
                   {"config", cfg},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                   {"history", Json::array({history})}};
    if (!p.variant.empty()) config["variant"] = p.variant;
    std::string config_text;
    try {
        config_text = config.dump();
    } catch (const Json::exception& e) {
        return Error(EINVAL) << "image config: " << e.what();
    }
    Manifest m;
    m.media_type = std::string(media::kOciManifest);
    m.config.media_type = std::string(media::kOciConfig);
    m.config.digest = BERTH_TRY(store.write_blob(config_text));
    m.config.size = static_cast<int64_t>(config_text.size());
    for (const auto& l : layers) m.layers.push_back(l.desc);
    std::string mtext = manifest_to_json(m);
    Descriptor d;
    d.media_type = std::string(media::kOciManifest);
    d.digest = BERTH_TRY(store.write_blob(mtext));
    d.size = static_cast<int64_t>(mtext.size());
    d.platform = p;
    return d;
}

namespace {

std::string base_name(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}
std::string dir_name(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? "" : p.substr(0, slash);
}
std::string join_rel(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

// What upper layers hide from lower ones.
struct Hidden {
    std::set<std::string> seen;      // paths already written
    std::set<std::string> removed;   // whiteouts: the path and everything below
    std::set<std::string> opaque;    // directories whose lower contents are hidden
    std::set<std::string> non_dirs;  // non-directories: nothing lower can be below them

    bool hides(const std::string& p) const {
        if (seen.count(p) || removed.count(p)) return true;
        for (std::string a = dir_name(p);; a = dir_name(a)) {
            if (!a.empty() && (removed.count(a) || opaque.count(a) || non_dirs.count(a))) {
                return true;
            }
            if (a.empty()) return opaque.count("") != 0;
        }
    }
};

}  // namespace

Result<void> export_flattened(const ContentStore& store, const Manifest& manifest,
                              const std::string& tar_path) {
    return tar::write_tar_atomically(tar_path, [&](tar::Writer& w) -> Result<void> {
        Hidden hidden;
        for (size_t i = manifest.layers.size(); i-- > 0;) {
            const Descriptor& layer = manifest.layers[i];
            UniqueFd fd = BERTH_TRY(store.open_blob(layer.digest));
            tar::Reader r = BERTH_TRY(tar::Reader::open_fd(fd, "layer " + layer.digest.str()));
            std::set<std::string> new_removed, new_opaque;
            while (BERTH_TRY(r.next())) {
                const std::string& p = r.path();
                if (p.empty()) continue;
                std::string base = base_name(p);
                if (base == ".wh..wh..opq") {
                    new_opaque.insert(dir_name(p));
                    continue;
                }
                if (base.starts_with(".wh.")) {
                    new_removed.insert(join_rel(dir_name(p), base.substr(4)));
                    continue;
                }
                if (hidden.hides(p)) continue;
                struct archive_entry* e = r.entry();
                archive_entry_set_pathname(e, p.c_str());
                std::string link = r.hardlink();
                if (!link.empty()) {
                    std::string cleaned = path_clean("/" + link);
                    archive_entry_set_hardlink(e, cleaned == "/" ? "" : cleaned.c_str() + 1);
                }
                BERTH_TRY(w.write_header(e));
                if (link.empty() && r.type() == AE_IFREG && r.size() > 0) {
                    BERTH_TRY(r.read_data([&](std::string_view d) { return w.write_data(d); }));
                }
                hidden.seen.insert(p);
                if (r.type() != AE_IFDIR) hidden.non_dirs.insert(p);
            }
            hidden.removed.merge(new_removed);
            hidden.opaque.merge(new_opaque);
        }
        return {};
    });
}

}  // namespace berth::image
