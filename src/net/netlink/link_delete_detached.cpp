#include "net/netlink/link_delete_detached.h"

#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "base/detached_holder.h"
#include "net/netlink/link.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

namespace {

// Whether `index` still names a device in the calling thread's namespace: an RCU lookup
// (SIOCGIFNAME), which sees the device gone the moment it is unlisted.
bool index_listed(int index) {
    char name[IF_NAMESIZE];
    return ::if_indextoname(static_cast<unsigned>(index), name) != nullptr;
}

}  // namespace

Result<int> link_index_unlocked(std::string_view name) {
    std::string n(name);
    unsigned index = ::if_nametoindex(n.c_str());
    if (index == 0) return ErrnoError() << "find link `" << n << "`";
    return static_cast<int>(index);
}

Result<void> delete_link_detached(int index) {
    if (!index_listed(index)) return Error(ENODEV) << "delete link " << index;
    auto status = BERTH_TRY(spawn_detached_holder([index]() -> int {
        auto nl = NetlinkSocket::open();
        if (!nl) return nl.error().errno_value();
        auto r = delete_link(*nl, index);
        return r ? 0 : r.error().errno_value();
    }));
    // Unlisting takes a millisecond or two after the holder starts; poll for it every 0.2 ms,
    // and for the holder's answer (an error, or a deletion that finished first).
    pollfd pfd{status.get(), POLLIN, 0};
    const timespec tick{0, 200'000};
    for (;;) {
        int n = ::ppoll(&pfd, 1, &tick, nullptr);
        if (n < 0 && errno != EINTR)
            return ErrnoError() << "wait for the deletion of link " << index;
        if (n > 0) {
            int result = 0;
            ssize_t got = ::recv(status.get(), &result, sizeof(result), 0);
            if (got != static_cast<ssize_t>(sizeof(result)))
                return Error(EIO) << "delete link " << index << ": the deleting process died";
            if (result != 0) return Error(result) << "delete link " << index;
            return {};
        }
        if (!index_listed(index)) return {};
    }
}

}  // namespace berth::net::netlink
