// Where host-local keeps its reservations. The allocator is pure logic over this interface; the
// disk store (disk_store.h) is the real one, tests use an in-memory fake.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"

namespace berth::net::ipam {

struct Reservation {
    IpAddr ip;
    std::string id;      // container id
    std::string ifname;  // empty in files written before CNI recorded it
};

class Store {
  public:
    virtual ~Store() = default;
    // Excludes every other user of the same store (other plugin processes) until unlock().
    virtual Result<void> lock() = 0;
    virtual void unlock() = 0;
    // Records ip for (id, ifname) and remembers it as range_id's last reservation. False when the
    // ip is already taken. Either the reservation is fully recorded or nothing is.
    virtual Result<bool> reserve(const std::string& id, const std::string& ifname, const IpAddr& ip,
                                 const std::string& range_id) = 0;
    // The last ip reserved for range_id, if any.
    virtual Result<std::optional<IpAddr>> last_reserved_ip(const std::string& range_id) = 0;
    // Forgets one ip (a rollback); a missing reservation is success.
    virtual Result<void> release(const IpAddr& ip) = 0;
    virtual Result<void> release_by_id(const std::string& id, const std::string& ifname) = 0;
    virtual Result<std::vector<IpAddr>> get_by_id(const std::string& id,
                                                  const std::string& ifname) = 0;
    virtual Result<std::vector<Reservation>> list() = 0;
};

// Holds the store's lock for a scope.
class StoreLock {
  public:
    static Result<StoreLock> acquire(Store& store) {
        BERTH_TRY(store.lock());
        return StoreLock(store);
    }
    StoreLock(StoreLock&& o) noexcept : store_(o.store_) { o.store_ = nullptr; }
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;
    StoreLock& operator=(StoreLock&&) = delete;
    ~StoreLock() {
        if (store_) store_->unlock();
    }

  private:
    explicit StoreLock(Store& store) : store_(&store) {}
    Store* store_;
};

}  // namespace berth::net::ipam
