// A network namespace that lives exactly as long as this object, for netlink tests (root only):
// a helper thread unshares it and hands back an fd of its namespace, then ends. Closing the fd
// (and the socket) destroys the namespace with everything in it; there is no mount or file to
// clean up. The host's interfaces are never touched: every socket is opened in the namespace.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"
#include "net/netlink/link.h"
#include "net/netlink/netns.h"
#include "net/netlink/socket.h"

namespace berth::net::testing {

#define ASSERT_OK(expr)                                             \
    do {                                                            \
        auto&& r_ = (expr);                                         \
        ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().what(); \
    } while (0)

class TestNetns {
  public:
    static Result<TestNetns> create() {
        Result<UniqueFd> fd = Error(EINVAL);
        std::thread helper([&] {
            if (::unshare(CLONE_NEWNET) < 0) {
                fd = ErrnoError() << "unshare(CLONE_NEWNET)";
                return;
            }
            fd = current_netns();
        });
        helper.join();
        if (!fd) return std::move(fd).error();
        TestNetns ns;
        ns.fd_ = std::move(fd).value();
        auto nl = netlink::NetlinkSocket::open_in(ns.fd_);
        if (!nl) return std::move(nl).error();
        ns.nl_.emplace(std::move(nl).value());
        auto lo = netlink::get_link(*ns.nl_, "lo");
        if (!lo) return std::move(lo).error();
        if (auto r = netlink::set_link_up(*ns.nl_, lo->index, true); !r)
            return std::move(r).error();
        return ns;
    }

    BorrowedFd fd() const { return fd_; }
    netlink::NetlinkSocket& nl() { return *nl_; }
    // A path other processes can open to enter the namespace.
    std::string path() const {
        return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_.get());
    }
    // Runs a shell command inside the namespace and returns its stdout.
    std::string run(const std::string& cmd) const {
        std::string full = "nsenter --net=" + path() + " -- " + cmd + " 2>/dev/null";
        std::string out;
        FILE* p = ::popen(full.c_str(), "r");
        if (!p) return out;
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
        ::pclose(p);
        return out;
    }
    nlohmann::json run_json(const std::string& cmd) const {
        return nlohmann::json::parse(run(cmd), nullptr, /*allow_exceptions=*/false);
    }

  private:
    UniqueFd fd_;
    std::optional<netlink::NetlinkSocket> nl_;
};

}  // namespace berth::net::testing
