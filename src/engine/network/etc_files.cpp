#include "engine/network/etc_files.h"

#include "base/strings.h"
#include "net/ip/addr.h"

namespace berth::engine::network {
namespace {

bool is_loopback(const std::string& text) {
    auto ip = net::IpAddr::parse(text);
    if (!ip) return false;
    if (ip->is_v4()) return ip->data()[0] == 127;
    return *ip == *net::IpAddr::parse("::1");
}

}  // namespace

Result<void> check_add_host(const std::string& entry) {
    // host:ip, where ip may be IPv6 (so split at the first colon only).
    size_t colon = entry.find(':');
    if (colon == 0 || colon == std::string::npos || !net::IpAddr::parse(entry.substr(colon + 1))) {
        return Error(EINVAL) << "--add-host `" << entry << "`: want HOST:IP";
    }
    return {};
}

std::string hosts_file(const HostsInput& in) {
    std::string out;
    if (!in.base.empty()) {
        out = in.base;
        if (out.back() != '\n') out += '\n';
    } else {
        out =
            "127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\n"
            "ff00::0\tip6-mcastprefix\n"
            "ff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n";
    }
    for (const auto& h : in.add_hosts) {
        size_t colon = h.find(':');
        out += h.substr(colon + 1) + "\t" + h.substr(0, colon) + "\n";
    }
    std::string names = in.hostname;
    if (!in.name.empty() && in.name != in.hostname) names += " " + in.name;
    if (in.addresses.empty() && in.base.empty()) {
        // No address of its own (--network none): the name still resolves, to loopback.
        out += "127.0.1.1\t" + names + "\n";
    }
    for (const auto& a : in.addresses) out += a + "\t" + names + "\n";
    return out;
}

std::string resolv_conf(const std::string& host_text, const std::vector<std::string>& dns,
                        const std::vector<std::string>& search,
                        const std::vector<std::string>& options, bool keep_loopback) {
    std::vector<std::string> servers, host_search, host_options;
    for (const auto& raw : split(host_text, '\n')) {
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        std::vector<std::string> words;
        for (const auto& w : split(line, ' ')) {
            for (const auto& t : split(w, '\t')) {
                if (!t.empty()) words.push_back(t);
            }
        }
        if (words.size() < 2) continue;
        if (words[0] == "nameserver") {
            if (keep_loopback || !is_loopback(words[1])) servers.push_back(words[1]);
        } else if (words[0] == "search" || words[0] == "domain") {
            host_search.assign(words.begin() + 1, words.end());
        } else if (words[0] == "options") {
            host_options.insert(host_options.end(), words.begin() + 1, words.end());
        }
    }
    if (!dns.empty()) servers = dns;
    if (servers.empty()) servers = {"8.8.8.8", "8.8.4.4"};
    const auto& s = search.empty() ? host_search : search;
    const auto& o = options.empty() ? host_options : options;
    std::string out;
    if (!s.empty() && !(s.size() == 1 && s[0] == ".")) {
        out += "search";
        for (const auto& d : s) out += " " + d;
        out += "\n";
    }
    for (const auto& n : servers) out += "nameserver " + n + "\n";
    if (!o.empty()) {
        out += "options";
        for (const auto& x : o) out += " " + x;
        out += "\n";
    }
    return out;
}

}  // namespace berth::engine::network
