// Images: named references (name:tag -> a manifest or index descriptor) in the metadata database
// <root>/berth.db (SQLite, WAL; the engine keeps its own tables there too), the content store
// and the snapshots under <root>, and garbage collection of what no reference or container uses.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "db/db.h"
#include "image/content_store.h"
#include "image/oci_image.h"
#include "image/snapshots.h"
#include "image/unpack.h"

namespace berth::image {

struct ImageRecord {
    std::string name;     // normalized: "docker.io/library/busybox:latest", "localhost:5000/x:1"
    Descriptor target;    // a manifest or an index
    std::string created;  // RFC 3339, when the name was set
};

// An image resolved for one platform: its manifest, config and layer snapshot keys.
struct ResolvedImage {
    Descriptor manifest_desc;
    Manifest manifest;
    ImageConfig config;
    std::vector<Digest> chain_ids;  // one per layer, lowest first

    // The image ID as podman and docker show it: the config's digest.
    const Digest& id() const { return manifest.config.digest; }
};

class ImageStore {
  public:
    static Result<ImageStore> open(const std::string& root);
    ContentStore& content();
    SnapshotStore& snapshots();
    // The metadata database connection (<root>/berth.db). The engine keeps its tables in the
    // same file and should use this connection: a second connection in the same process would
    // wait on its own write lock.
    db::Db& db();

    Result<void> set(const std::string& name, const Descriptor& target);
    Result<std::optional<ImageRecord>> get(const std::string& name) const;
    Result<std::vector<ImageRecord>> list() const;
    Result<void> remove(const std::string& name);  // ENOENT naming it when absent

    // `ref` is a name (normalized first), a full digest or a unique digest prefix (podman's
    // image ID, the config digest).
    Result<ResolvedImage> resolve(const std::string& ref, const Platform& platform) const;
    // The names whose image (for `platform`) has the ID `image.id()`: what `rmi <id>` untags.
    Result<std::vector<std::string>> names_of(const ResolvedImage& image,
                                              const Platform& platform) const;
    // Checks that `target` and everything it names (config, layers; an index's manifests that
    // are present, at least one) are in the content store and parse, without recording anything.
    // set() runs it first; ENOENT names a missing blob, EINVAL a malformed one.
    Result<void> check_complete(const Descriptor& target) const;
    // A shared lock on the content store: hold it from writing the first blob of an import or
    // pull until set() has named it, so a concurrent gc (which takes it exclusively) never
    // sweeps blobs that are about to be referenced. Released by closing the fd.
    Result<UniqueFd> write_lease() const;

    // Unpacks every layer not yet unpacked (verifying diff IDs); returns the layer directories,
    // lowest first.
    Result<std::vector<std::string>> unpack(const ResolvedImage& image,
                                            const UnpackOptions& o = {});

    struct GcResult {
        size_t blobs_removed = 0, snapshots_removed = 0;
        uint64_t bytes_freed = 0;
    };
    // Removes blobs and snapshots reachable from no reference and not in `keep_snapshots` (the
    // engine passes the chain IDs its containers use).
    Result<GcResult> gc(const std::vector<Digest>& keep_snapshots = {});

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace berth::image
