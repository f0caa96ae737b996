#include "engine/container_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include "base/file.h"
#include "base/unique_fd.h"

namespace berth::engine {
namespace {

struct Held {
    UniqueFd fd;
    std::string path;
    std::string state_dir;  // <root>/containers/<id>: removal deletes it before the row
    int count = 0;
    bool gone = false;
};

std::mutex registry_mutex;
std::map<std::string, Held>& registry() {
    static auto* held = new std::map<std::string, Held>();  // never destroyed: no exit order
    return *held;
}

// Whether fd is still the file at path (not unlinked by a holder that removed the container).
bool still_linked(int fd, const std::string& path) {
    struct stat by_fd, by_path;
    if (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0) return false;
    return by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

}  // namespace

std::string locks_dir(const Paths& paths) {
    return path_join(paths.runroot, "locks");
}

Result<ContainerLock> lock_container(const Paths& paths, const std::string& id, bool wait) {
    {
        std::lock_guard<std::mutex> guard(registry_mutex);
        auto it = registry().find(id);
        if (it != registry().end()) {
            it->second.count++;
            return ContainerLock(id);
        }
    }
    std::string dir = locks_dir(paths);
    BERTH_TRY(mkdir_p(dir, 0700));
    std::string path = path_join(dir, id);
    for (;;) {
        UniqueFd fd = BERTH_TRY(open_fd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        while (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
            if (errno != EINTR) return ErrnoError() << "flock `" << path << "`";
        }
        if (!still_linked(fd.get(), path)) continue;
        std::lock_guard<std::mutex> guard(registry_mutex);
        Held& h = registry()[id];
        h.fd = std::move(fd);
        h.path = path;
        h.state_dir = paths.state_dir(id);
        h.count = 1;
        return ContainerLock(id);
    }
}

ContainerLock& ContainerLock::operator=(ContainerLock&& other) noexcept {
    if (this != &other) {
        release();
        id_ = std::move(other.id_);
        other.id_.clear();
    }
    return *this;
}

void ContainerLock::container_gone() {
    if (id_.empty()) return;
    std::lock_guard<std::mutex> guard(registry_mutex);
    auto it = registry().find(id_);
    if (it != registry().end()) it->second.gone = true;
}

void ContainerLock::release() {
    if (id_.empty()) return;
    std::lock_guard<std::mutex> guard(registry_mutex);
    auto it = registry().find(id_);
    id_.clear();
    if (it == registry().end() || --it->second.count > 0) return;
    // Unlinked while still locked, so that nobody can lock this inode as the live one. A holder
    // that only looked (stop's network release after an exit command's removal) finds the
    // state dir gone: removal, under this lock, deletes it before the row.
    if (it->second.gone || !path_exists(it->second.state_dir)) ::unlink(it->second.path.c_str());
    registry().erase(it);  // closing the fd drops the flock
}

std::string removal_hold_path(const Paths& paths, const std::string& id) {
    return path_join(locks_dir(paths), id + ".hold");
}

Result<RemovalHold> hold_removal(const Paths& paths, const std::string& id) {
    BERTH_TRY(mkdir_p(locks_dir(paths), 0700));
    RemovalHold hold;
    hold.path_ = removal_hold_path(paths, id);
    hold.fd_ = BERTH_TRY(open_fd(hold.path_, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    while (::flock(hold.fd_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) return ErrnoError() << "flock `" << hold.path_ << "`";
    }
    return hold;
}

RemovalHold::~RemovalHold() {
    if (fd_) ::unlink(path_.c_str());
}

bool removal_held(const Paths& paths, const std::string& id) {
    auto fd = open_fd(removal_hold_path(paths, id), O_RDONLY | O_CLOEXEC);
    if (!fd.ok()) return false;
    return ::flock(fd->get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

void wait_for_removal_hold(const Paths& paths, const std::string& id) {
    auto fd = open_fd(removal_hold_path(paths, id), O_RDONLY | O_CLOEXEC);
    if (!fd.ok()) return;
    while (::flock(fd->get(), LOCK_SH) != 0 && errno == EINTR) {
    }
}

}  // namespace berth::engine
