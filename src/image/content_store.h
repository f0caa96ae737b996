// Blobs addressed by digest, as containerd keeps them: <root>/blobs/sha256/<hex>. A write goes
// to <root>/ingest/<random> and becomes visible (rename) only after its digest and size are
// verified; a crash leaves only ingest files, which open() removes when no writer holds them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "image/digest.h"

namespace berth::image {

class ContentStore {
  public:
    // Creates the directories if needed and removes stale ingest files (flock-based: an ingest
    // file whose writer is alive is locked and kept).
    static Result<ContentStore> open(const std::string& root);

    const std::string& root() const { return root_; }
    bool has(const Digest& d) const;
    std::string blob_path(const Digest& d) const;
    Result<uint64_t> size(const Digest& d) const;
    // The whole blob; for manifests, indexes and configs (small). Re-verified against its digest.
    Result<std::string> read(const Digest& d) const;
    Result<UniqueFd> open_blob(const Digest& d) const;
    Result<std::vector<Digest>> list() const;
    Result<void> remove(const Digest& d);

    // Streams a blob in. commit() verifies digest (and size when given) and publishes it; a
    // Writer destroyed without commit() removes its ingest file. Committing a blob that already
    // exists is success.
    class Writer {
      public:
        Writer(Writer&&) noexcept;
        Writer& operator=(Writer&&) noexcept;
        ~Writer();
        Result<void> write(std::string_view data);
        uint64_t written() const;
        Result<Digest> commit(const std::optional<Digest>& expected,
                              std::optional<uint64_t> expected_size = std::nullopt);

      private:
        friend class ContentStore;
        Writer() = default;
        struct State;
        std::unique_ptr<State> s_;
    };
    Result<Writer> writer() const;
    // Convenience: the whole blob at once.
    Result<Digest> write_blob(std::string_view data,
                              const std::optional<Digest>& expected = std::nullopt) const;

  private:
    std::string root_;
};

}  // namespace berth::image
