// Thin libarchive wrappers for the archive formats: reading tar entries (any compression) or a
// raw decompressed stream, and writing tar files or a gzip stream to a callback. Errors carry
// libarchive's message and the file they concern.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "image/oci_image.h"

struct archive;
struct archive_entry;

namespace berth::image::tar {

using Sink = std::function<Result<void>(std::string_view)>;

struct ArchiveFree {
    void operator()(struct archive* a) const;
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

class Reader {
  public:
    // A tar (or any format libarchive reads when `raw` is false) with any compression.
    static Result<Reader> open_file(const std::string& path);
    // The decompressed bytes of `fd` (gzip, zstd, xz, bzip2 or none) as one "entry".
    static Result<Reader> open_raw(BorrowedFd fd, const std::string& what);
    static Result<Reader> open_fd(BorrowedFd fd, const std::string& what);

    // Moves to the next entry; false at the end.
    Result<bool> next();
    struct archive_entry* entry() const {
        return entry_;
    }
    // The entry's path without "./" or leading "/" and cleaned ("a/b", "" for the root).
    const std::string& path() const { return path_; }
    mode_t type() const;  // AE_IFREG, AE_IFDIR, AE_IFLNK...
    int64_t size() const;
    std::string symlink() const;
    std::string hardlink() const;

    // The entry's data, sparse holes as zeros.
    Result<void> read_data(const Sink& sink);
    Result<std::string> read_all(size_t limit);

    struct archive* handle() const {
        return a_.get();
    }
    const std::string& what() const { return what_; }

  private:
    Reader() = default;
    Error error(std::string_view doing) const;
    bool format_is_tar() const;
    ArchivePtr a_;
    struct archive_entry* entry_ = nullptr;
    std::string path_;
    std::string what_;
};

// Writes tar entries (pax restricted, like docker and podman) to a file or a callback.
class Writer {
  public:
    static Result<Writer> create_file(const std::string& path);
    static Result<Writer> to_sink(Sink sink, const std::string& what);
    Writer(Writer&&) noexcept;
    Writer& operator=(Writer&&) noexcept;
    ~Writer();

    Result<void> add_dir(const std::string& name, mode_t mode = 0755);
    Result<void> add_file(const std::string& name, std::string_view data, mode_t mode = 0644);
    // A regular file of `size` bytes read from `fd` (from its current offset).
    Result<void> add_file_from_fd(const std::string& name, BorrowedFd fd, int64_t size,
                                  mode_t mode = 0644);
    // A prepared entry (copied from another archive or from disk), data to follow.
    Result<void> write_header(struct archive_entry* e);
    Result<void> write_data(std::string_view data);
    Result<void> close();

    struct archive* handle() const;

  private:
    Writer();
    struct State;
    std::unique_ptr<State> s_;
};

// Writes a tar at `path` through `fill`: into a temporary file renamed over `path` on success
// (nothing is left on failure), or straight into `path` when it is a device or a pipe.
Result<void> write_tar_atomically(const std::string& path,
                                  const std::function<Result<void>(Writer&)>& fill);

// The gzip compression of bytes written to it, delivered to a sink (a content store writer).
class GzipStream {
  public:
    static Result<GzipStream> to_sink(Sink sink);
    GzipStream(GzipStream&&) noexcept;
    GzipStream& operator=(GzipStream&&) noexcept;
    ~GzipStream();
    Result<void> write(std::string_view data);
    Result<void> close();

  private:
    GzipStream();
    struct State;
    std::unique_ptr<State> s_;
};

// The compression the first bytes of a blob show (gzip and zstd magic numbers); anything else
// is None.
Compression sniff_compression(std::string_view head);

// Whether `fd` (read from its current offset) holds data under any compression libarchive knows
// (gzip, zstd, xz, bzip2, lz4...).
Result<bool> is_compressed(BorrowedFd fd, const std::string& what);

// Copies the decompressed bytes of `fd` to `sink`.
Result<void> decompress_fd(BorrowedFd fd, const std::string& what, const Sink& sink);

}  // namespace berth::image::tar
