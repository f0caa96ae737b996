#include "image/snapshots.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"
#include "base/scope_guard.h"

namespace berth::image {
namespace {

// <root>/snapshots/<hex>/fs is a published snapshot; <root>/snapshots/.tmp/<hex>-<random> one
// being filled (or removed); <root>/snapshots/.locks/<hex> serialises work on one chain ID.
constexpr const char* kTmp = ".tmp";
constexpr const char* kLocks = ".locks";

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

Result<void> check_chain_id(const Digest& d) {
    if (d.algorithm != "sha256" || !is_hex64(d.hex))
        return Error(EINVAL) << "snapshot key `" << d.str() << "` is not a sha256 digest";
    return {};
}

// flock on <locks>/<hex>. A lock file remove() unlinked while we waited is not the lock any
// more: take the one now at the path instead.
Result<UniqueFd> lock_chain(const std::string& path, bool wait) {
    for (;;) {
        UniqueFd fd = BERTH_TRY(open_fd(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600));
        int r;
        do r = ::flock(fd.get(), wait ? LOCK_EX : LOCK_EX | LOCK_NB);
        while (r < 0 && errno == EINTR);
        if (r < 0) return ErrnoError() << "lock `" << path << "`";
        struct stat held, now;
        if (::fstat(fd.get(), &held) < 0) return ErrnoError() << "stat `" << path << "`";
        if (::stat(path.c_str(), &now) == 0 && now.st_ino == held.st_ino &&
            now.st_dev == held.st_dev)
            return fd;
    }
}

Result<void> fsync_dir(const std::string& path) {
    UniqueFd fd = BERTH_TRY(open_fd(path, O_RDONLY | O_DIRECTORY));
    if (::fsync(fd.get()) < 0) return ErrnoError() << "fsync `" << path << "`";
    return {};
}

Result<std::vector<std::string>> list_names(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return ErrnoError() << "open `" << dir << "`";
    std::vector<std::string> out;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") out.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err) return Error::from_errno(err) << "read `" << dir << "`";
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

Result<SnapshotStore> SnapshotStore::open(const std::string& root) {
    SnapshotStore s;
    s.root_ = path_join(root, "snapshots");
    BERTH_TRY(mkdir_p(path_join(s.root_, kTmp), 0700));
    BERTH_TRY(mkdir_p(path_join(s.root_, kLocks), 0700));
    ::chmod(s.root_.c_str(), 0700);  // layers hold setuid files: not for other users to reach
    // Temporaries of fills and removals that died: their chain lock is free.
    std::string tmp = path_join(s.root_, kTmp);
    for (const auto& name : BERTH_TRY(list_names(tmp))) {
        std::string hex = name.substr(0, name.find('-'));
        if (!is_hex64(hex)) continue;
        auto lock = lock_chain(path_join(path_join(s.root_, kLocks), hex), false);
        if (!lock) continue;  // being filled or removed right now
        BERTH_TRY(remove_all(path_join(tmp, name)));
    }
    return s;
}

std::string SnapshotStore::dir(const Digest& chain_id) const {
    return root_ + "/" + chain_id.hex + "/fs";
}

bool SnapshotStore::has(const Digest& chain_id) const {
    return check_chain_id(chain_id).ok() && is_directory(dir(chain_id));
}

Result<std::string> SnapshotStore::ensure(
    const Digest& chain_id, const std::function<Result<void>(const std::string& tmp)>& fill) {
    BERTH_TRY(check_chain_id(chain_id));
    if (has(chain_id)) return dir(chain_id);
    UniqueFd lock = BERTH_TRY(lock_chain(path_join(path_join(root_, kLocks), chain_id.hex), true));
    if (has(chain_id)) return dir(chain_id);  // another caller filled it while we waited

    std::string tmpl = path_join(path_join(root_, kTmp), chain_id.hex + "-XXXXXX");
    if (!::mkdtemp(tmpl.data())) return ErrnoError() << "mkdtemp `" << tmpl << "`";
    std::string tmp = tmpl;
    auto cleanup = make_scope_guard([&] { (void)remove_all(tmp); });
    std::string fs = path_join(tmp, "fs");
    if (::mkdir(fs.c_str(), 0755) < 0 || ::chmod(fs.c_str(), 0755) < 0)  // umask aside
        return ErrnoError() << "mkdir `" << fs << "`";
    auto filled = fill(fs);
    if (!filled) return std::move(filled).error().wrap("snapshot " + chain_id.str());
    // The files' data must be on disk before the rename makes the snapshot visible: a crash
    // after it must not leave a published layer with empty files.
    UniqueFd tmp_fd = BERTH_TRY(open_fd(tmp, O_RDONLY | O_DIRECTORY));
    if (::syncfs(tmp_fd.get()) < 0) return ErrnoError() << "syncfs `" << tmp << "`";
    std::string final_dir = path_join(root_, chain_id.hex);
    if (::rename(tmp.c_str(), final_dir.c_str()) < 0)
        return ErrnoError() << "rename `" << tmp << "` to `" << final_dir << "`";
    cleanup.dismiss();
    BERTH_TRY(fsync_dir(root_));
    return dir(chain_id);
}

Result<std::vector<Digest>> SnapshotStore::list() const {
    std::vector<Digest> out;
    for (const auto& name : BERTH_TRY(list_names(root_))) {
        if (!is_hex64(name) || !is_directory(path_join(path_join(root_, name), "fs"))) continue;
        out.push_back(Digest{"sha256", name});
    }
    return out;
}

Result<void> SnapshotStore::remove(const Digest& chain_id) {
    BERTH_TRY(check_chain_id(chain_id));
    std::string lock_path = path_join(path_join(root_, kLocks), chain_id.hex);
    UniqueFd lock = BERTH_TRY(lock_chain(lock_path, true));
    std::string dir_path = path_join(root_, chain_id.hex);
    if (!path_exists(dir_path)) {
        ::unlink(lock_path.c_str());
        return Error(ENOENT) << "snapshot " << chain_id.str() << " does not exist";
    }
    // Renamed away first, so it disappears at once and a crash half-way leaves a temporary
    // that open() finishes removing.
    std::string tmpl = path_join(path_join(root_, kTmp), chain_id.hex + "-rm-XXXXXX");
    if (!::mkdtemp(tmpl.data())) return ErrnoError() << "mkdtemp `" << tmpl << "`";
    std::string doomed = path_join(tmpl, "snapshot");
    if (::rename(dir_path.c_str(), doomed.c_str()) < 0) {
        int err = errno;
        ::rmdir(tmpl.c_str());
        return Error::from_errno(err) << "rename `" << dir_path << "` to `" << doomed << "`";
    }
    BERTH_TRY(remove_all(tmpl));
    ::unlink(lock_path.c_str());
    return {};
}

}  // namespace berth::image
