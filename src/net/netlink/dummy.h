// Creating links of any kind through one request shape (RTM_NEWLINK with IFLA_LINKINFO), and the
// simplest kind, dummy: a link that drops what it is sent, useful as an anchor for addresses.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "net/netlink/mac.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

struct LinkSpec {
    std::string name;
    std::string kind;  // IFLA_INFO_KIND: "dummy", "vxlan", ...
    uint32_t mtu = 0;  // 0: the kind's default
    std::optional<MacAddr> mac;
    int master = 0;   // enslave at creation (IFLA_MASTER); 0: none
    bool up = false;  // IFF_UP at creation
    // Fills IFLA_INFO_DATA, the kind's own attributes; the nest is opened and closed around it.
    std::function<void(Request&)> put_info_data;
};

// Creates the link (NLM_F_CREATE | NLM_F_EXCL: an existing name is EEXIST). Errors read
// "create <kind> `<name>`: RTM_NEWLINK: <errno text>[: <kernel's explanation>]".
Result<void> create_link(NetlinkSocket& nl, const LinkSpec& spec);

struct DummySpec {
    std::string name;
    uint32_t mtu = 0;
    std::optional<MacAddr> mac;
};
Result<void> create_dummy(NetlinkSocket& nl, const DummySpec& spec);

}  // namespace berth::net::netlink
