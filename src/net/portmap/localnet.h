// route_localnet for the link the container is reached through, so that connections to
// 127.0.0.1:<hostPort>, DNATed to the container, may be routed out of the loopback world (their
// source becomes the link's address by the masquerade in postrouting).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "net/ip/addr.h"

namespace berth::net::portmap {

// Sets net.ipv4.conf.<link>.route_localnet=1 through /proc/sys (the calling thread's network
// namespace) for the link of the most specific route to `container`, or else for the first of
// `fallback_links` that exists. ENOENT when neither names a link.
Result<std::string> enable_route_localnet(const IpAddr& container,
                                          const std::vector<std::string>& fallback_links);

}  // namespace berth::net::portmap
