// The /etc/hosts, /etc/hostname and /etc/resolv.conf a container gets, as docker writes them.
// They live beside the bundle and are bind-mounted over the image's files.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::engine::network {

struct HostsInput {
    std::string hostname;
    std::string name;                    // the container's name (an alias of its address)
    std::vector<std::string> addresses;  // the container's own, first per family first
    std::vector<std::string> add_hosts;  // --add-host host:ip
    std::string base;                    // --network host: the host's /etc/hosts, else empty
};

// EINVAL naming --add-host when an entry is not host:ip.
Result<void> check_add_host(const std::string& entry);
std::string hosts_file(const HostsInput& in);

// resolv.conf: --dns/--dns-search/--dns-option when given, else the host's file (`host_text`)
// with its loopback nameservers dropped unless keep_loopback (host network); when none is left,
// Google's public resolvers, as docker does.
std::string resolv_conf(const std::string& host_text, const std::vector<std::string>& dns,
                        const std::vector<std::string>& search,
                        const std::vector<std::string>& options, bool keep_loopback);

}  // namespace berth::engine::network
