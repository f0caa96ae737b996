// An in-memory ipam::Store for allocator tests; can be told to fail.
#pragma once

#include <map>

#include "net/ipam/store.h"

namespace berth::net::ipam {

class FakeStore final : public Store {
  public:
    std::map<IpAddr, Reservation> reserved;
    std::map<std::string, IpAddr> last;
    int locked = 0;
    int reserve_calls = 0;
    int fail_reserve_at = -1;  // the reserve call (0-based) that fails with EIO

    Result<void> lock() override {
        locked++;
        return {};
    }
    void unlock() override { locked--; }
    Result<bool> reserve(const std::string& id, const std::string& ifname, const IpAddr& ip,
                         const std::string& range_id) override {
        if (reserve_calls++ == fail_reserve_at) return Error(EIO) << "injected failure";
        if (reserved.count(ip)) return false;
        reserved[ip] = Reservation{ip, id, ifname};
        last[range_id] = ip;
        return true;
    }
    Result<std::optional<IpAddr>> last_reserved_ip(const std::string& range_id) override {
        auto it = last.find(range_id);
        if (it == last.end()) return std::optional<IpAddr>();
        return std::optional<IpAddr>(it->second);
    }
    Result<void> release(const IpAddr& ip) override {
        reserved.erase(ip);
        return {};
    }
    Result<void> release_by_id(const std::string& id, const std::string& ifname) override {
        std::erase_if(reserved, [&](const auto& kv) {
            return kv.second.id == id && kv.second.ifname == ifname;
        });
        return {};
    }
    Result<std::vector<IpAddr>> get_by_id(const std::string& id,
                                          const std::string& ifname) override {
        std::vector<IpAddr> out;
        for (const auto& [ip, r] : reserved)
            if (r.id == id && r.ifname == ifname) out.push_back(ip);
        return out;
    }
    Result<std::vector<Reservation>> list() override {
        std::vector<Reservation> out;
        for (const auto& kv : reserved) out.push_back(kv.second);
        return out;
    }
};

}  // namespace berth::net::ipam
