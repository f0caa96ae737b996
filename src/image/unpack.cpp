#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "image/unpack_tree.h"

namespace berth::image {
namespace {

constexpr size_t kBlock = 128 * 1024;

struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

Error archive_error(archive* a, std::string_view what) {
    const char* msg = archive_error_string(a);
    return Error(EINVAL) << "layer: " << what << ": " << (msg ? msg : "unknown libarchive error");
}

// The uncompressed layer, hashed as the tar reader pulls it: the diff ID is the sha256 of
// exactly these bytes, trailing padding included (drain() reads what the tar reader leaves).
class TarStream {
  public:
    TarStream(BorrowedFd fd) : fd_(fd), buf_(kBlock) {}

    Result<void> open(Compression c) {
        if (c == Compression::None) return {};
        decoder_.reset(archive_read_new());
        if (!decoder_) return Error(ENOMEM) << "layer: archive_read_new";
        int r = c == Compression::Gzip ? archive_read_support_filter_gzip(decoder_.get())
                                       : archive_read_support_filter_zstd(decoder_.get());
        // ARCHIVE_WARN means libarchive would run an external program: not for us.
        if (r != ARCHIVE_OK)
            return Error(ENOTSUP) << "layer: libarchive has no built-in "
                                  << (c == Compression::Gzip ? "gzip" : "zstd") << " decoder";
        archive_read_support_format_raw(decoder_.get());
        if (archive_read_open_fd(decoder_.get(), fd_.get(), kBlock) != ARCHIVE_OK)
            return archive_error(decoder_.get(), "decompressing");
        archive_entry* e = nullptr;
        r = archive_read_next_header(decoder_.get(), &e);
        if (r == ARCHIVE_EOF) {
            decoder_eof_ = true;
            return {};
        }
        if (r < ARCHIVE_WARN) return archive_error(decoder_.get(), "decompressing");
        return {};
    }

    // libarchive's read callback for the tar reader.
    static la_ssize_t read_cb(archive* a, void* self, const void** out) {
        auto* s = static_cast<TarStream*>(self);
        la_ssize_t n = s->read_some();
        if (n < 0) archive_set_error(a, EIO, "%s", s->error_.c_str());
        *out = s->buf_.data();
        return n;
    }

    Result<void> drain() {
        la_ssize_t n;
        while ((n = read_some()) > 0) {
        }
        if (n < 0) return Error(errno_ ? errno_ : EINVAL) << "layer: " << error_;
        return {};
    }

    Digest digest() { return sha_.finish(); }
    const std::string& error() const { return error_; }

  private:
    la_ssize_t read_some() {
        la_ssize_t n;
        if (decoder_) {
            if (decoder_eof_) return 0;
            n = archive_read_data(decoder_.get(), buf_.data(), buf_.size());
            if (n < 0) {
                const char* msg = archive_error_string(decoder_.get());
                error_ = std::string("decompressing: ") + (msg ? msg : "error");
                return -1;
            }
        } else {
            do n = ::read(fd_.get(), buf_.data(), buf_.size());
            while (n < 0 && errno == EINTR);
            if (n < 0) {
                errno_ = errno;
                error_ = std::string("read: ") + strerror(errno);
                return -1;
            }
        }
        sha_.update(std::string_view(buf_.data(), static_cast<size_t>(n)));
        return n;
    }

    BorrowedFd fd_;
    std::vector<char> buf_;
    ArchivePtr decoder_;
    bool decoder_eof_ = false;
    Sha256 sha_;
    std::string error_;
    int errno_ = 0;
};

LayerEntry to_layer_entry(archive_entry* ae) {
    LayerEntry e;
    const char* name = archive_entry_pathname(ae);
    e.name = name ? name : "";
    e.type = archive_entry_filetype(ae);
    e.perm = archive_entry_perm(ae) & 07777;
    e.uid = archive_entry_uid(ae);
    e.gid = archive_entry_gid(ae);
    e.mtime = {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)};
    e.atime = archive_entry_atime_is_set(ae)
                  ? timespec{archive_entry_atime(ae), archive_entry_atime_nsec(ae)}
                  : e.mtime;
    if (const char* t = archive_entry_symlink(ae)) e.link_target = t;
    if (const char* h = archive_entry_hardlink(ae)) e.hardlink = h;
    e.rdev = archive_entry_rdev(ae);
    if (archive_entry_size_is_set(ae)) e.size = archive_entry_size(ae);
    archive_entry_xattr_reset(ae);
    const char* xname = nullptr;
    const void* xvalue = nullptr;
    size_t xsize = 0;
    while (archive_entry_xattr_next(ae, &xname, &xvalue, &xsize) == ARCHIVE_OK)
        e.xattrs.emplace_back(xname, std::string(static_cast<const char*>(xvalue), xsize));
    return e;
}

// The next block of file data; an empty answer means the end, so an empty block in the
// middle (libarchive may return one) is skipped.
Result<DataBlock> read_block_nonempty(void* ctx) {
    for (;;) {
        auto* a = static_cast<archive*>(ctx);
        const void* buf = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) return DataBlock{};
        if (r < ARCHIVE_WARN) return archive_error(a, "reading file data");
        if (size > 0)
            return DataBlock{std::string_view(static_cast<const char*>(buf), size), offset};
    }
}

Result<Digest> unpack_into(BorrowedFd blob, Compression compression, int dest_fd,
                           const UnpackOptions& options) {
    TarStream stream(blob);
    BERTH_TRY(stream.open(compression));
    ArchivePtr tar(archive_read_new());
    if (!tar) return Error(ENOMEM) << "layer: archive_read_new";
    archive_read_support_format_tar(tar.get());
    archive_read_support_format_gnutar(tar.get());
    archive_read_support_format_empty(tar.get());
    if (archive_read_open(tar.get(), &stream, nullptr, &TarStream::read_cb, nullptr) != ARCHIVE_OK)
        return archive_error(tar.get(), "reading tar");

    int root = ::fcntl(dest_fd, F_DUPFD_CLOEXEC, 0);
    if (root < 0) return ErrnoError() << "dup the layer directory";
    LayerTree tree(UniqueFd(root), options.same_owner);
    for (;;) {
        archive_entry* ae = nullptr;
        int r = archive_read_next_header(tar.get(), &ae);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return archive_error(tar.get(), "reading tar");
        LayerEntry e = to_layer_entry(ae);
        BERTH_TRY(tree.apply(e, &read_block_nonempty, tar.get()));
    }
    BERTH_TRY(tree.finish());
    BERTH_TRY(stream.drain());
    return stream.digest();
}

}  // namespace

Result<Digest> unpack_layer(BorrowedFd blob, Compression compression, const std::string& dest,
                            const UnpackOptions& options) {
    int fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoError() << "open layer directory `" << dest << "`";
    UniqueFd dest_fd(fd);
    auto r = unpack_into(blob, compression, dest_fd.get(), options);
    if (!r) {
        // Nothing partial: the caller's directory is left as empty as it was given.
        (void)remove_children_at(dest_fd.get());
        return std::move(r).error().wrap("unpack layer into `" + dest + "`");
    }
    return r;
}

}  // namespace berth::image
