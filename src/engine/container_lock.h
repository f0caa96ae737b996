// One container's removal lock: `rm`, `system gc` and the monitor's exit command (`container
// cleanup --rm`) may all remove the same container at once, and a foreground `run --rm` keeps
// the exit command off until it has read the exit status. An flock on <runroot>/locks/<id>,
// re-entrant within the process (the engine takes it in remove() and again in cleanup()).
//
// The file goes with the container: whoever holds the lock when the row is gone (removed it or
// found it removed, or finds the container's state dir gone) unlinks it on release. A waiter that
// then wins the lock on the unlinked file notices (its inode is no longer the path's) and locks the
// path afresh.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/paths.h"

namespace berth::engine {

class ContainerLock {
  public:
    ContainerLock() = default;
    ContainerLock(ContainerLock&& other) noexcept : id_(std::move(other.id_)) { other.id_.clear(); }
    ContainerLock& operator=(ContainerLock&& other) noexcept;
    ContainerLock(const ContainerLock&) = delete;
    ContainerLock& operator=(const ContainerLock&) = delete;
    ~ContainerLock() { release(); }

    // The container's row is gone: the lock file goes when the last holder in this process
    // releases it.
    void container_gone();
    void release();
    bool held() const { return !id_.empty(); }

  private:
    friend Result<ContainerLock> lock_container(const Paths& paths, const std::string& id,
                                                bool wait);
    explicit ContainerLock(std::string id) : id_(std::move(id)) {}
    std::string id_;
};

// Waits for and takes the container's lock (a no-op count when this process holds it); with
// wait false, EWOULDBLOCK when another process holds it.
Result<ContainerLock> lock_container(const Paths& paths, const std::string& id, bool wait = true);

// <runroot>/locks: gc removes lock files whose container is gone.
std::string locks_dir(const Paths& paths);

// What a foreground `run --rm` (or `start -a` of a --rm container) holds while it follows the
// task: the exit command waits for it to go before it removes anything, so that the removal,
// after the exit status is read, is left to the foreground command. Another flock, on
// <runroot>/locks/<id>.hold: unlike the container's lock it never keeps `rm` waiting. Released
// (unlinked) by the destructor; a killed holder's file is unlocked, and removal deletes it.
class RemovalHold {
  public:
    RemovalHold() = default;
    RemovalHold(RemovalHold&&) = default;
    RemovalHold& operator=(RemovalHold&&) = default;
    ~RemovalHold();

  private:
    friend Result<RemovalHold> hold_removal(const Paths& paths, const std::string& id);
    UniqueFd fd_;
    std::string path_;
};
Result<RemovalHold> hold_removal(const Paths& paths, const std::string& id);
// Until nobody holds the container's RemovalHold (at once when there is none).
void wait_for_removal_hold(const Paths& paths, const std::string& id);
std::string removal_hold_path(const Paths& paths, const std::string& id);
// Whether a live foreground command holds it now.
bool removal_held(const Paths& paths, const std::string& id);

}  // namespace berth::engine
