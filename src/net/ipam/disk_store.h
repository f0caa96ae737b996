// host-local's on-disk store, file-compatible with the reference plugin: under
// <data_dir>/<network>/ one file per reserved address, named by the address and holding
// "<container id>\r\n<ifname>", a `last_reserved_ip.<range index>` file per range set, and an
// flock on the file `lock` in it for mutual exclusion between plugin processes (the file the
// reference plugin locks, so both may share a directory).
//
// A reservation file is written whole under a temporary name and hard-linked into place, so a
// process killed at any instant leaves either a complete reservation or none (a leftover
// temporary file is not a reservation and is removed by gc_temporaries()).
#pragma once

#include <string>

#include "base/unique_fd.h"
#include "net/ipam/store.h"

namespace berth::net::ipam {

class DiskStore final : public Store {
  public:
    // Creates <data_dir>/<network> (0755) if needed. The network name must be a plain name.
    static Result<DiskStore> open(const std::string& data_dir, const std::string& network);

    Result<void> lock() override;
    void unlock() override;
    Result<bool> reserve(const std::string& id, const std::string& ifname, const IpAddr& ip,
                         const std::string& range_id) override;
    Result<std::optional<IpAddr>> last_reserved_ip(const std::string& range_id) override;
    Result<void> release(const IpAddr& ip) override;
    Result<void> release_by_id(const std::string& id, const std::string& ifname) override;
    Result<std::vector<IpAddr>> get_by_id(const std::string& id,
                                          const std::string& ifname) override;
    Result<std::vector<Reservation>> list() override;

    // Removes temporary files left by killed processes. Call with the lock held.
    Result<void> gc_temporaries();
    const std::string& dir() const { return dir_; }

  private:
    DiskStore(std::string dir, UniqueFd dir_fd, UniqueFd lock_fd)
        : dir_(std::move(dir)), dir_fd_(std::move(dir_fd)), lock_fd_(std::move(lock_fd)) {}
    // Rewrites a small file of the directory in place (the last_reserved_ip hint).
    Result<void> write_hint(const std::string& file, const std::string& text);
    std::string dir_;
    UniqueFd dir_fd_;
    UniqueFd lock_fd_;
};

// The content of a reservation file for (id, ifname).
std::string reservation_record(const std::string& id, const std::string& ifname);

}  // namespace berth::net::ipam
