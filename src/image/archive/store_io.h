// Moving bytes between files and the content store, verified on the way in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "image/archive/tar_io.h"
#include "image/content_store.h"
#include "image/oci_image.h"

namespace berth::image {

// Streams `fd` into the store; the commit checks `expected` (digest and size).
Result<void> store_from_fd(ContentStore& store, BorrowedFd fd, const Descriptor& expected,
                           const std::string& what);

// Appends everything `fd` holds (from its offset) to `writer`.
Result<void> copy_fd_to_writer(BorrowedFd fd, ContentStore::Writer& writer,
                               const std::string& what);

// A blob streamed in from a tar entry (or anything fed to a sink) whose digest is learnt on the
// way: size, digest and, from its first bytes, compression.
struct StoredBlob {
    Digest digest;
    int64_t size = 0;
    Compression compression = Compression::None;
};
Result<StoredBlob> store_from_entry(ContentStore& store, tar::Reader& reader,
                                    const std::optional<Digest>& expected);

// Copies a whole blob from the store to `sink`.
Result<void> blob_to_sink(const ContentStore& store, const Digest& d, const tar::Sink& sink);

// The sha256 of a blob's decompressed bytes (a layer's diff ID).
Result<Digest> diff_id_of_blob(const ContentStore& store, const Digest& d);

std::string oci_layer_media_type(Compression c);

}  // namespace berth::image
