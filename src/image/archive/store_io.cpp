#include "image/archive/store_io.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

namespace berth::image {

Result<void> copy_fd_to_writer(BorrowedFd fd, ContentStore::Writer& writer,
                               const std::string& what) {
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "reading `" << what << "`";
        if (n == 0) return {};
        BERTH_TRY(writer.write(std::string_view(buf.data(), n)));
    }
}

Result<void> store_from_fd(ContentStore& store, BorrowedFd fd, const Descriptor& expected,
                           const std::string& what) {
    auto writer = BERTH_TRY(store.writer());
    BERTH_TRY(copy_fd_to_writer(fd, writer, what));
    auto r = writer.commit(expected.digest, static_cast<uint64_t>(expected.size));
    if (!r.ok()) return std::move(r).error().wrap(what);
    return {};
}

Result<StoredBlob> store_from_entry(ContentStore& store, tar::Reader& reader,
                                    const std::optional<Digest>& expected) {
    auto writer = BERTH_TRY(store.writer());
    StoredBlob out;
    std::string head;
    BERTH_TRY(reader.read_data([&](std::string_view d) -> Result<void> {
        if (head.size() < 8) head.append(d.substr(0, 8 - head.size()));
        return writer.write(d);
    }));
    out.compression = tar::sniff_compression(head);
    out.size = static_cast<int64_t>(writer.written());
    auto r = writer.commit(expected);
    if (!r.ok()) {
        return std::move(r).error().wrap("`" + reader.path() + "` in `" + reader.what() + "`");
    }
    out.digest = *r;
    return out;
}

Result<void> blob_to_sink(const ContentStore& store, const Digest& d, const tar::Sink& sink) {
    UniqueFd fd = BERTH_TRY(store.open_blob(d));
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "reading blob " << d.str();
        if (n == 0) return {};
        BERTH_TRY(sink(std::string_view(buf.data(), n)));
    }
}

Result<Digest> diff_id_of_blob(const ContentStore& store, const Digest& d) {
    UniqueFd fd = BERTH_TRY(store.open_blob(d));
    Sha256 sha;
    BERTH_TRY(tar::decompress_fd(fd, "blob " + d.str(), [&](std::string_view data) -> Result<void> {
        sha.update(data);
        return {};
    }));
    return sha.finish();
}

std::string oci_layer_media_type(Compression c) {
    switch (c) {
        case Compression::Gzip:
            return std::string(media::kOciLayerGzip);
        case Compression::Zstd:
            return std::string(media::kOciLayerZstd);
        case Compression::None:
            break;
    }
    return std::string(media::kOciLayer);
}

}  // namespace berth::image
