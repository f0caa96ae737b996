// Kernel parameters under /proc/sys, for the network namespace of the CALLING THREAD: /proc/sys/net
// shows whichever namespace the thread that opens a file is in. So writes for a container's
// namespace run inside net::in_netns (netns.h), never by switching a shared thread.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::net::sysctl {

// `key` is a path below /proc/sys ("net/ipv4/ip_forward") or the dotted form
// ("net.ipv4.ip_forward"; not for keys holding an interface name with a dot in it). Keys with
// empty, "." or ".." components are refused (EINVAL).
Result<std::string> read(std::string_view key);  // trailing newline removed
Result<void> write(std::string_view key, std::string_view value);
// Writes only when the current value differs; returns whether it wrote.
Result<bool> ensure(std::string_view key, std::string_view value);

// "net/ipv6/conf/<ifname>/<name>" and "net/ipv4/conf/<ifname>/<name>"; ifname may be "all" or
// "default". EINVAL for an interface name that cannot be a path component.
Result<std::string> ipv6_conf_key(std::string_view ifname, std::string_view name);
Result<std::string> ipv4_conf_key(std::string_view ifname, std::string_view name);

}  // namespace berth::net::sysctl
