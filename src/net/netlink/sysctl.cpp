#include "net/netlink/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace berth::net::sysctl {

namespace {

Result<std::string> path_for(std::string_view key) {
    std::string rel(key);
    if (rel.find('/') == std::string::npos)
        for (char& c : rel)
            if (c == '.') c = '/';
    for (const std::string& part : split(rel, '/'))
        if (part.empty() || part == "." || part == "..")
            return Error(EINVAL) << "invalid sysctl key \"" << key << "\"";
    return "/proc/sys/" + rel;
}

Result<std::string> conf_key(std::string_view family, std::string_view ifname,
                             std::string_view name) {
    if (ifname.empty() || ifname == "." || ifname == ".." ||
        ifname.find('/') != std::string_view::npos || name.empty() ||
        name.find('/') != std::string_view::npos)
        return Error(EINVAL) << "invalid interface or parameter name \"" << ifname << "\"/\""
                             << name << "\"";
    return "net/" + std::string(family) + "/conf/" + std::string(ifname) + "/" + std::string(name);
}

}  // namespace

Result<std::string> read(std::string_view key) {
    std::string path = BERTH_TRY(path_for(key));
    std::string value = BERTH_TRY(read_file(path));
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    return value;
}

Result<void> write(std::string_view key, std::string_view value) {
    std::string path = BERTH_TRY(path_for(key));
    UniqueFd fd = BERTH_TRY(open_fd(path, O_WRONLY));
    // One write() call: a sysctl takes the whole value from a single write.
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0) return ErrnoError() << "write " << value << " to " << path;
    if (static_cast<size_t>(n) != value.size())
        return Error(EIO) << "write " << value << " to " << path << ": short write";
    return {};
}

Result<bool> ensure(std::string_view key, std::string_view value) {
    auto current = read(key);
    if (current && *current == value) return false;
    BERTH_TRY(write(key, value));
    return true;
}

Result<std::string> ipv6_conf_key(std::string_view ifname, std::string_view name) {
    return conf_key("ipv6", ifname, name);
}

Result<std::string> ipv4_conf_key(std::string_view ifname, std::string_view name) {
    return conf_key("ipv4", ifname, name);
}

}  // namespace berth::net::sysctl
