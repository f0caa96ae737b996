// A NETLINK_ROUTE socket over libmnl: requests are acknowledged (the kernel's errno and its
// extended-ack text come back in the Error), and dumps are retried in this one place when the
// kernel reports that the table changed under them (NLM_F_DUMP_INTR).
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

struct mnl_socket;
struct nlattr;

namespace berth::net::netlink {

// One request message being built. Attribute helpers wrap libmnl's; a request is a few hundred
// bytes at most, far below the buffer.
class Request {
  public:
    Request(uint16_t type, uint16_t flags);
    nlmsghdr* header() { return hdr_; }
    const nlmsghdr* header() const { return hdr_; }

    // A zeroed struct appended at the end: the family header after nlmsghdr (ifinfomsg,
    // ifaddrmsg, rtmsg), or one inside a nest (a veth peer's ifinfomsg).
    template <typename T>
    T* put_family_header() {
        return static_cast<T*>(put_extra_header(sizeof(T)));
    }
    void put(uint16_t type, const void* data, size_t size);
    void put_u8(uint16_t type, uint8_t v);
    void put_u32(uint16_t type, uint32_t v);
    void put_str(uint16_t type, std::string_view s);  // NUL-terminated on the wire
    nlattr* nest_start(uint16_t type);
    void nest_end(nlattr* nest);

  private:
    void* put_extra_header(size_t size);
    std::vector<char> buf_;
    nlmsghdr* hdr_;
};

// Receives each reply message; an error stops the exchange and is returned.
using MessageFn = std::function<Result<void>(const nlmsghdr*)>;

class NetlinkSocket {
  public:
    // A socket in the calling thread's network namespace.
    static Result<NetlinkSocket> open();
    // A socket in `netns`: created on a throwaway thread inside it (see netns.h). A netlink
    // socket stays bound to the namespace it was created in, so it can then be used from any
    // thread without that thread ever switching namespace.
    static Result<NetlinkSocket> open_in(BorrowedFd netns);

    NetlinkSocket(NetlinkSocket&&) noexcept;
    NetlinkSocket& operator=(NetlinkSocket&&) noexcept;
    ~NetlinkSocket();

    // Sends `req` with NLM_F_ACK and waits for the acknowledgement. Replies that come before it
    // (RTM_GETLINK by name) go to on_reply.
    Result<void> execute(Request& req, const MessageFn& on_reply = {});
    // Sends a dump request and hands each message of one complete, consistent dump to
    // on_message; restarts (up to kDumpAttempts in all) when the kernel marks it interrupted.
    Result<void> dump(Request& req, const MessageFn& on_message);

    static constexpr int kDumpAttempts = 5;
    int fd() const;

  private:
    explicit NetlinkSocket(mnl_socket* sock);
    struct Closer {
        void operator()(mnl_socket* s) const;
    };
    // Sends and reads until the ACK or NLMSG_DONE. A dump's messages are kept in `chunks`
    // (whole receive buffers) and an interrupted dump returns EINTR.
    Result<void> exchange(Request& req, bool is_dump, const MessageFn& on_reply,
                          std::vector<std::vector<char>>* chunks);

    std::unique_ptr<mnl_socket, Closer> sock_;
    uint32_t portid_ = 0;
    uint32_t seq_ = 0;
};

// The name of an rtnetlink message type for error messages ("RTM_NEWLINK").
std::string_view message_type_name(uint16_t type);

}  // namespace berth::net::netlink
