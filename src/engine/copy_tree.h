// The pieces of `berth cp`: a tree of file system objects read from a directory (by fd, never
// by path, so a container that renames things meanwhile cannot send the walk elsewhere) or from
// a tar stream, and written into a directory or a tar stream. Directories, regular files,
// symlinks (kept as symlinks), fifos and device nodes; hard links are copied as files.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::engine {

// One object of a copy, as a tar header describes it.
struct CopyEntry {
    // Relative to the copy's top, '/'-separated, no "." or ".." components. "" is the
    // destination directory itself (what `SRC/.` copies into).
    std::string path;
    mode_t mode = 0;  // st_mode: type and permission bits
    uid_t uid = 0;
    gid_t gid = 0;
    struct timespec mtime {};
    int64_t size = 0;         // regular files
    std::string link_target;  // symlinks; for a hard link (tar input only), the linked path
    bool hardlink = false;
    dev_t rdev = 0;  // device nodes
};

// Reads a regular file's content: bytes read, 0 at its end.
using ContentReader = std::function<Result<size_t>(char* buf, size_t len)>;

// Receives a copy's entries, each directory before what it holds.
class TreeSink {
  public:
    virtual ~TreeSink() = default;
    virtual Result<void> add(const CopyEntry& entry, const ContentReader& content) = 0;
    virtual Result<void> finish() = 0;
};

// Emits `top` (an O_PATH fd, of any type) under the name `name` and, for a directory,
// everything below it, parents first. name "" emits only what a directory holds (`SRC/.`).
// Symlinks are never followed below the top; the contents of proc, sysfs, cgroup and other
// kernel file systems met below the top are skipped.
Result<void> walk_tree(BorrowedFd top, const std::string& name, TreeSink& sink);

// Reads a tar stream (compressed or not) from `fd` and gives each entry to the sink. An entry
// whose name leaves the top ("../x", or absolute after "/" is taken off) is an error.
Result<void> read_tar(BorrowedFd fd, TreeSink& sink);

// Writes a tar stream (POSIX pax) to `fd`; the top "" becomes "./".
class TarSink : public TreeSink {
  public:
    static Result<std::unique_ptr<TarSink>> open(BorrowedFd fd);
    ~TarSink() override;
    Result<void> add(const CopyEntry& entry, const ContentReader& content) override;
    Result<void> finish() override;

  private:
    TarSink() = default;
    struct State;
    std::unique_ptr<State> s_;
};

struct FsSinkOptions {
    // Owner given to everything written; unset: the entry's own (`cp -a`).
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    // Where the destination lives when it is a container's tree: its root (an O_PATH fd) and
    // the destination directory's path in it. An entry path through a symlink (tar input) is
    // then followed inside that root; without a root such a path is an error.
    int root_fd = -1;
    std::string dest_in_root;
};

// Writes entries into the directory `dest` (an O_PATH fd). Names below the destination are
// created and opened one component at a time, relative to their parent's fd, without ever
// following a symlink (but see root_fd). An existing non-directory is replaced; a directory
// merges with a directory; a directory is never replaced by something else or the reverse.
class FsSink : public TreeSink {
  public:
    FsSink(UniqueFd dest, std::string dest_display, FsSinkOptions options);
    Result<void> add(const CopyEntry& entry, const ContentReader& content) override;
    // Sets the directories' times, deepest first (writing into them changed them).
    Result<void> finish() override;

  private:
    // The directory `rel` ("" the destination), made (0755, the sink's owner) when missing.
    Result<UniqueFd> open_dir(const std::string& rel);
    Result<void> set_owner_at(int dir, const std::string& name, const CopyEntry& e);
    uid_t uid_for(const CopyEntry& e) const { return options_.uid.value_or(e.uid); }
    gid_t gid_for(const CopyEntry& e) const { return options_.gid.value_or(e.gid); }
    std::string display(const std::string& rel) const;

    UniqueFd dest_;
    std::string dest_display_;
    FsSinkOptions options_;
    // The last parent directory used: entries come grouped by directory.
    std::string cached_rel_;
    UniqueFd cached_fd_;
    struct DirTimes {
        std::string rel;
        struct timespec mtime;
    };
    std::vector<DirTimes> dir_times_;
};

// openat2(dir, path, flags, resolve): ENOSYS explained when the kernel is older than 5.6.
Result<UniqueFd> open_resolved(BorrowedFd dir, const std::string& path, int flags,
                               uint64_t resolve);
// A container path inside its root: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, so symlinks and
// ".." never leave the root. follow: whether a symlink as the last component is followed.
Result<UniqueFd> open_in_root(BorrowedFd root, const std::string& path, bool follow,
                              int flags = O_PATH);

}  // namespace berth::engine
