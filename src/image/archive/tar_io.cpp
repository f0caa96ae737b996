#include "image/archive/tar_io.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "base/file.h"
#include "base/scope_guard.h"

namespace berth::image::tar {
namespace {

constexpr size_t kBlock = 1 << 20;

Error archive_error(struct archive* a, std::string_view what, std::string_view doing) {
    int e = archive_errno(a);
    const char* msg = archive_error_string(a);
    Error err(e > 0 ? e : EIO);
    err << doing << " `" << what << "`: " << (msg ? msg : "unknown libarchive error");
    return err;
}

std::string normalize_entry_path(const char* p) {
    if (p == nullptr) return {};
    std::string cleaned = path_clean(std::string("/") + p);  // "/a/b"
    if (cleaned == "/") return {};
    return cleaned.substr(1);
}

}  // namespace

void ArchiveFree::operator()(struct archive* a) const {
    // Read and write handles share archive_free.
    if (a != nullptr) archive_free(a);
}

// ---- Reader --------------------------------------------------------------------------------

Result<Reader> Reader::open_file(const std::string& path) {
    Reader r;
    r.what_ = path;
    r.a_.reset(archive_read_new());
    archive_read_support_filter_all(r.a_.get());
    archive_read_support_format_tar(r.a_.get());
    if (archive_read_open_filename(r.a_.get(), path.c_str(), kBlock) != ARCHIVE_OK) {
        return archive_error(r.a_.get(), path, "opening");
    }
    return r;
}

Result<Reader> Reader::open_fd(BorrowedFd fd, const std::string& what) {
    Reader r;
    r.what_ = what;
    r.a_.reset(archive_read_new());
    archive_read_support_filter_all(r.a_.get());
    archive_read_support_format_tar(r.a_.get());
    if (archive_read_open_fd(r.a_.get(), fd.get(), kBlock) != ARCHIVE_OK) {
        return archive_error(r.a_.get(), what, "opening");
    }
    return r;
}

Result<Reader> Reader::open_raw(BorrowedFd fd, const std::string& what) {
    Reader r;
    r.what_ = what;
    r.a_.reset(archive_read_new());
    archive_read_support_filter_all(r.a_.get());
    archive_read_support_format_raw(r.a_.get());
    archive_read_support_format_empty(r.a_.get());
    if (archive_read_open_fd(r.a_.get(), fd.get(), kBlock) != ARCHIVE_OK) {
        return archive_error(r.a_.get(), what, "opening");
    }
    return r;
}

Error Reader::error(std::string_view doing) const {
    return archive_error(a_.get(), what_, doing);
}

Result<bool> Reader::next() {
    int rc = archive_read_next_header(a_.get(), &entry_);
    if (rc == ARCHIVE_EOF) {
        entry_ = nullptr;
        return false;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return error("reading");
    path_ = normalize_entry_path(archive_entry_pathname(entry_));
    return true;
}

mode_t Reader::type() const {
    return archive_entry_filetype(entry_);
}
int64_t Reader::size() const {
    return archive_entry_size(entry_);
}
std::string Reader::symlink() const {
    const char* s = archive_entry_symlink(entry_);
    return s ? s : "";
}
std::string Reader::hardlink() const {
    const char* s = archive_entry_hardlink(entry_);
    return s ? s : "";
}

Result<void> Reader::read_data(const Sink& sink) {
    static const std::string kZeros(64 * 1024, '\0');
    int64_t at = 0;
    for (;;) {
        const void* buf = nullptr;
        size_t len = 0;
        la_int64_t offset = 0;
        int rc = archive_read_data_block(a_.get(), &buf, &len, &offset);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            return error(std::string("reading entry `") + path_ + "` of");
        }
        while (at < offset) {  // a sparse hole
            size_t n = std::min<int64_t>(offset - at, kZeros.size());
            BERTH_TRY(sink(std::string_view(kZeros.data(), n)));
            at += n;
        }
        if (len > 0) BERTH_TRY(sink(std::string_view(static_cast<const char*>(buf), len)));
        at += len;
    }
    // A file ending in a hole.
    if (entry_ != nullptr && archive_entry_size_is_set(entry_) && format_is_tar()) {
        while (at < size()) {
            size_t n = std::min<int64_t>(size() - at, kZeros.size());
            BERTH_TRY(sink(std::string_view(kZeros.data(), n)));
            at += n;
        }
    }
    return {};
}

bool Reader::format_is_tar() const {
    return (archive_format(a_.get()) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

Result<std::string> Reader::read_all(size_t limit) {
    std::string out;
    BERTH_TRY(read_data([&](std::string_view d) -> Result<void> {
        if (out.size() + d.size() > limit) {
            return Error(EFBIG) << "entry `" << path_ << "` of `" << what_ << "` is larger than "
                                << limit << " bytes";
        }
        out.append(d);
        return {};
    }));
    return out;
}

// ---- Writer --------------------------------------------------------------------------------

struct Writer::State {
    ArchivePtr a;
    Sink sink;
    std::string what;
    std::optional<Error> sink_error;
    bool closed = false;
};

namespace {

la_ssize_t sink_write(struct archive* a, void* data, const void* buf, size_t len) {
    auto* sink = static_cast<Sink*>(data);
    auto r = (*sink)(std::string_view(static_cast<const char*>(buf), len));
    if (!r.ok()) {
        archive_set_error(a, r.error().errno_value() ? r.error().errno_value() : EIO, "%s",
                          r.error().what().c_str());
        return -1;
    }
    return static_cast<la_ssize_t>(len);
}

}  // namespace

Writer::Writer() : s_(std::make_unique<State>()) {}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;
Writer::~Writer() {
    if (s_ && s_->a && !s_->closed) archive_write_close(s_->a.get());
}
struct archive* Writer::handle() const {
    return s_->a.get();
}

Result<Writer> Writer::create_file(const std::string& path) {
    Writer w;
    w.s_->what = path;
    w.s_->a.reset(archive_write_new());
    struct archive* a = w.s_->a.get();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_none(a);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
        return archive_error(a, path, "creating");
    }
    return w;
}

Result<Writer> Writer::to_sink(Sink sink, const std::string& what) {
    Writer w;
    w.s_->what = what;
    w.s_->sink = std::move(sink);
    w.s_->a.reset(archive_write_new());
    struct archive* a = w.s_->a.get();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_none(a);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open(a, &w.s_->sink, nullptr, sink_write, nullptr) != ARCHIVE_OK) {
        return archive_error(a, what, "creating");
    }
    return w;
}

Result<void> Writer::write_header(struct archive_entry* e) {
    if (archive_write_header(s_->a.get(), e) != ARCHIVE_OK) {
        const char* p = archive_entry_pathname(e);
        return archive_error(s_->a.get(), s_->what,
                             std::string("writing entry `") + (p ? p : "") + "` to");
    }
    return {};
}

Result<void> Writer::write_data(std::string_view data) {
    while (!data.empty()) {
        la_ssize_t n = archive_write_data(s_->a.get(), data.data(), data.size());
        if (n <= 0) return archive_error(s_->a.get(), s_->what, "writing");
        data.remove_prefix(n);
    }
    return {};
}

namespace {

struct EntryFree {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<struct archive_entry, EntryFree>;

EntryPtr make_entry(const std::string& name, mode_t type, mode_t mode, int64_t size) {
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_size(e.get(), size);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    return e;
}

}  // namespace

Result<void> Writer::add_dir(const std::string& name, mode_t mode) {
    auto e = make_entry(name, AE_IFDIR, mode, 0);
    return write_header(e.get());
}

Result<void> Writer::add_file(const std::string& name, std::string_view data, mode_t mode) {
    auto e = make_entry(name, AE_IFREG, mode, static_cast<int64_t>(data.size()));
    BERTH_TRY(write_header(e.get()));
    return write_data(data);
}

Result<void> Writer::add_file_from_fd(const std::string& name, BorrowedFd fd, int64_t size,
                                      mode_t mode) {
    auto e = make_entry(name, AE_IFREG, mode, size);
    BERTH_TRY(write_header(e.get()));
    std::vector<char> buf(kBlock);
    int64_t left = size;
    while (left > 0) {
        ssize_t n = ::read(fd.get(), buf.data(), std::min<int64_t>(left, buf.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "reading the data of `" << name << "`";
        if (n == 0) {
            return Error(EIO) << "`" << name << "` is shorter than its " << size << " bytes";
        }
        BERTH_TRY(write_data(std::string_view(buf.data(), n)));
        left -= n;
    }
    return {};
}

Result<void> Writer::close() {
    s_->closed = true;
    if (archive_write_close(s_->a.get()) != ARCHIVE_OK) {
        return archive_error(s_->a.get(), s_->what, "finishing");
    }
    return {};
}

Result<void> write_tar_atomically(const std::string& path,
                                  const std::function<Result<void>(Writer&)>& fill) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        Writer w = BERTH_TRY(Writer::create_file(path));
        BERTH_TRY_CTX(fill(w), "writing `" + path + "`");
        return w.close();
    }
    std::string tmp = path + ".tmp-berth";
    auto remove_tmp = make_scope_guard([&] { ::unlink(tmp.c_str()); });
    {
        Writer w = BERTH_TRY(Writer::create_file(tmp));
        BERTH_TRY_CTX(fill(w), "writing `" + path + "`");
        BERTH_TRY(w.close());
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return ErrnoError() << "renaming `" << tmp << "` to `" << path << "`";
    }
    remove_tmp.dismiss();
    return {};
}

// ---- GzipStream ----------------------------------------------------------------------------

struct GzipStream::State {
    ArchivePtr a;
    Sink sink;
    bool closed = false;
};

GzipStream::GzipStream() : s_(std::make_unique<State>()) {}
GzipStream::GzipStream(GzipStream&&) noexcept = default;
GzipStream& GzipStream::operator=(GzipStream&&) noexcept = default;
GzipStream::~GzipStream() {
    if (s_ && s_->a && !s_->closed) archive_write_close(s_->a.get());
}

Result<GzipStream> GzipStream::to_sink(Sink sink) {
    GzipStream g;
    g.s_->sink = std::move(sink);
    g.s_->a.reset(archive_write_new());
    struct archive* a = g.s_->a.get();
    // The raw format passes the data of its one entry through the filters unchanged.
    archive_write_set_format_raw(a);
    archive_write_add_filter_gzip(a);
    archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);  // reproducible output
    archive_write_set_bytes_per_block(a, 0);  // no padding of the compressed stream
    if (archive_write_open(a, &g.s_->sink, nullptr, sink_write, nullptr) != ARCHIVE_OK) {
        return archive_error(a, "gzip stream", "creating");
    }
    EntryPtr e = make_entry("layer.tar", AE_IFREG, 0644, 0);
    archive_entry_unset_size(e.get());
    if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
        return archive_error(a, "gzip stream", "starting");
    }
    return g;
}

Result<void> GzipStream::write(std::string_view data) {
    while (!data.empty()) {
        la_ssize_t n = archive_write_data(s_->a.get(), data.data(), data.size());
        if (n <= 0) return archive_error(s_->a.get(), "gzip stream", "compressing");
        data.remove_prefix(n);
    }
    return {};
}

Result<void> GzipStream::close() {
    s_->closed = true;
    if (archive_write_close(s_->a.get()) != ARCHIVE_OK) {
        return archive_error(s_->a.get(), "gzip stream", "finishing");
    }
    return {};
}

// ---- helpers -------------------------------------------------------------------------------

Compression sniff_compression(std::string_view head) {
    if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
        static_cast<unsigned char>(head[1]) == 0x8b) {
        return Compression::Gzip;
    }
    if (head.size() >= 4 && static_cast<unsigned char>(head[0]) == 0x28 &&
        static_cast<unsigned char>(head[1]) == 0xb5 &&
        static_cast<unsigned char>(head[2]) == 0x2f &&
        static_cast<unsigned char>(head[3]) == 0xfd) {
        return Compression::Zstd;
    }
    return Compression::None;
}

Result<bool> is_compressed(BorrowedFd fd, const std::string& what) {
    Reader r = BERTH_TRY(Reader::open_raw(fd, what));
    if (!BERTH_TRY(r.next())) return false;
    return archive_filter_code(r.handle(), 0) != ARCHIVE_FILTER_NONE;
}

Result<void> decompress_fd(BorrowedFd fd, const std::string& what, const Sink& sink) {
    Reader r = BERTH_TRY(Reader::open_raw(fd, what));
    if (!BERTH_TRY(r.next())) return {};  // empty input
    return r.read_data(sink);
}

}  // namespace berth::image::tar
