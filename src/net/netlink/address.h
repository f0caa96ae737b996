// Interface addresses, IPv4 and IPv6: add, delete, list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {

struct AddressInfo {
    int index = 0;
    IpNet address;       // IFA_LOCAL (or IFA_ADDRESS) with the prefix length
    uint8_t scope = 0;   // RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST
    uint32_t flags = 0;  // IFA_F_*, including IFA_F_TENTATIVE while IPv6 DAD runs
};

struct AddressOptions {
    // IPv6 only: usable at once, no duplicate address detection (IFA_F_NODAD).
    bool no_dad = false;
};

// IPv4 addresses shorter than /31 get the subnet's broadcast address, as `ip addr add ... brd +`.
Result<void> add_address(NetlinkSocket& nl, int index, const IpNet& address,
                         const AddressOptions& options = {});
Result<void> delete_address(NetlinkSocket& nl, int index, const IpNet& address);
// family: AF_INET, AF_INET6 or AF_UNSPEC; index 0 lists every link's addresses.
Result<std::vector<AddressInfo>> list_addresses(NetlinkSocket& nl, int family, int index = 0);

}  // namespace berth::net::netlink
