// One directory per unpacked layer stack, keyed by chain ID: <root>/snapshots/<hex>/fs. A
// snapshot is filled in a temporary directory and published by rename, so a crash never leaves
// a half-unpacked layer where a container could use it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/digest.h"

namespace berth::image {

class SnapshotStore {
  public:
    // Creates the directories; removes temporaries that no live process holds (flock).
    static Result<SnapshotStore> open(const std::string& root);

    bool has(const Digest& chain_id) const;
    std::string dir(const Digest& chain_id) const;  // the layer's files (an overlay lowerdir)
    // Returns dir(chain_id), calling fill(tmp) to make it first when it does not exist yet: tmp
    // is an empty directory that becomes dir(chain_id) by rename once fill succeeded (after a
    // syncfs); a failed fill leaves nothing. EINVAL for a key that is not a sha256 digest.
    // Concurrent callers for one chain ID, in any process: one fills (under a flock), the
    // others wait and reuse it.
    Result<std::string> ensure(const Digest& chain_id,
                               const std::function<Result<void>(const std::string& tmp)>& fill);
    Result<std::vector<Digest>> list() const;
    // ENOENT naming it when absent. The caller makes sure no mounted overlay uses it.
    Result<void> remove(const Digest& chain_id);

  private:
    std::string root_;
};

// Mounts an overlay of `lower_top_first` (read-only layers, the top one first), `upper` and
// `work` (same filesystem as upper) at `target`. A single lower layer and no upper is a
// read-only bind. Long lowerdir lists use the new mount API's per-layer options where needed.
// `transient`: the upper layer is never used again after a crash (a --rm container), so it is
// mounted "volatile", as podman does for --rm: overlayfs then never syncs it, and unmounting
// skips the sync of the upper filesystem (about 4 ms of waiting for the ext4 journal here).
Result<void> mount_overlay(const std::vector<std::string>& lower_top_first,
                           const std::string& upper, const std::string& work,
                           const std::string& target, bool transient = false);

}  // namespace berth::image
