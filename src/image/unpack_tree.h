// Writes a layer's entries below one directory with *at() calls only: every entry's parent is
// walked from the layer directory one component at a time with O_NOFOLLOW, so neither ".." nor
// a symlink an earlier entry made can take a write outside it.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::image {

// One tar entry, already read from the archive (the data of a regular file is pulled through
// `read_data` so it is streamed, not held).
struct LayerEntry {
    std::string name;  // as in the tar, for messages
    mode_t type = 0;   // S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO
    mode_t perm = 0;   // 07777 bits
    int64_t uid = 0, gid = 0;
    struct timespec mtime {};
    struct timespec atime {};
    std::string link_target;  // symlinks
    std::string hardlink;     // hard links: the entry name linked to
    dev_t rdev = 0;
    int64_t size = -1;  // regular files; -1 when unknown
    std::vector<std::pair<std::string, std::string>> xattrs;
};

// Streams a regular file's data: each call returns the next block and its offset in the file
// (sparse files leave gaps); an empty block means the end.
struct DataBlock {
    std::string_view data;
    int64_t offset = 0;
};
using DataReader = Result<DataBlock> (*)(void* ctx);

class LayerTree {
  public:
    LayerTree(UniqueFd root, bool same_owner) : root_(std::move(root)), same_owner_(same_owner) {}

    Result<void> apply(const LayerEntry& e, DataReader read_data, void* ctx);
    // Sets the directories' times last: creating their children changed them.
    Result<void> finish();

  private:
    // The directory holding parts[0..count-1], made (0755, root) when missing and `create`.
    // The answer is borrowed from a one-entry cache.
    Result<int> open_dir(const std::vector<std::string>& parts, size_t count, bool create,
                         const std::string& entry);
    Result<void> make_room(int parent, const std::string& base, bool keep_dir,
                           const std::string& entry);
    Result<void> set_metadata(int parent, const std::string& base, int fd, const LayerEntry& e);
    Result<void> write_data(int fd, const LayerEntry& e, DataReader read_data, void* ctx);

    UniqueFd root_;
    bool same_owner_;
    std::string cached_path_;
    UniqueFd cached_fd_;
    struct DirTimes {
        std::vector<std::string> parts;
        struct timespec times[2];
    };
    std::vector<DirTimes> dir_times_;
};

// rm -rf of what `dir` holds (not `dir` itself), staying on its filesystem.
Result<void> remove_children_at(int dir);

}  // namespace berth::image
