#include "engine/volumes.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

bool is_propagation(std::string_view o) {
    return o == "private" || o == "rprivate" || o == "shared" || o == "rshared" || o == "slave" ||
           o == "rslave";
}

Result<void> check_destination(const std::string& flag, const std::string& spec,
                               const std::string& dest) {
    if (dest.empty() || dest.front() != '/') {
        return Error(EINVAL) << flag << " `" << spec << "`: the container path `" << dest
                             << "` is not absolute";
    }
    if (path_clean(dest) == "/") {
        return Error(EINVAL) << flag << " `" << spec << "`: cannot mount over /";
    }
    return {};
}

}  // namespace

std::string volumes_dir(const std::string& root) {
    return path_join(root, "volumes");
}

bool valid_volume_name(std::string_view name) {
    if (name.size() < 2 || !std::isalnum(static_cast<unsigned char>(name.front()))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

std::string volume_data_dir(const std::string& dir, const std::string& name) {
    return path_join(path_join(dir, name), "_data");
}

Result<MountRequest> parse_volume(const std::string& spec, const std::string& dir) {
    auto parts = split(spec, ':');
    if (parts.size() < 2 || parts.size() > 3) {
        return Error(EINVAL) << "-v `" << spec
                             << "`: want HOST-PATH:CONTAINER-PATH[:OPTIONS] or "
                                "NAME:CONTAINER-PATH[:OPTIONS] (anonymous volumes are not "
                                "supported)";
    }
    MountRequest m;
    m.type = "bind";
    BERTH_TRY(check_destination("-v", spec, parts[1]));
    m.destination = path_clean(parts[1]);
    std::string mode = "rw", propagation = "rprivate";
    if (parts.size() == 3) {
        for (const auto& o : split(parts[2], ',')) {
            if (o == "ro" || o == "rw") {
                mode = o;
            } else if (is_propagation(o)) {
                propagation = o;
            } else if (o == "z" || o == "Z" || o.empty()) {
                // SELinux relabelling: nothing to do without SELinux.
            } else {
                return Error(EINVAL) << "-v `" << spec << "`: unknown option `" << o << "`";
            }
        }
    }
    const std::string& src = parts[0];
    if (!src.empty() && src.front() == '/') {
        struct stat st;
        if (::stat(src.c_str(), &st) != 0) {
            return ErrnoError() << "-v `" << spec << "`: host path `" << src << "`";
        }
        m.source = path_clean(src);
    } else {
        if (!valid_volume_name(src)) {
            return Error(EINVAL) << "-v `" << spec << "`: `" << src
                                 << "` is neither an absolute host path nor a valid volume name "
                                    "([a-zA-Z0-9][a-zA-Z0-9_.-]+)";
        }
        if (dir.empty()) return Error(EINVAL) << "-v `" << spec << "`: no volume directory";
        m.source = volume_data_dir(dir, src);
        BERTH_TRY_CTX(mkdir_p(m.source, 0755), "-v: creating volume `" + src + "`");
    }
    m.options = {"rbind", propagation, mode};
    return m;
}

Result<MountRequest> parse_tmpfs(const std::string& spec) {
    size_t colon = spec.find(':');
    MountRequest m;
    m.type = "tmpfs";
    m.source = "tmpfs";
    BERTH_TRY(check_destination("--tmpfs", spec, spec.substr(0, colon)));
    m.destination = path_clean(spec.substr(0, colon));
    m.options = {"noexec", "nosuid", "nodev"};
    if (colon != std::string::npos) {
        for (const auto& o : split(spec.substr(colon + 1), ',')) {
            if (o.empty()) continue;
            // exec/suid/dev replace the default's opposite: runtimes do not all apply options
            // in order (crun keeps noexec when exec follows it), so no option may contradict.
            std::erase(m.options, o.starts_with("no") ? o.substr(2) : "no" + o);
            m.options.push_back(o);
        }
    }
    return m;
}

Result<std::vector<std::string>> list_volumes(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return out;
        return ErrnoError() << "opendir `" << dir << "`";
    }
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (valid_volume_name(name) && is_directory(volume_data_dir(dir, name))) {
            out.push_back(name);
        }
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

Result<void> remove_volume(const std::string& dir, const std::string& name) {
    if (!valid_volume_name(name) || !is_directory(volume_data_dir(dir, name))) {
        return Error(ENOENT) << "no such volume `" << name << "`";
    }
    return remove_all(path_join(dir, name));
}

}  // namespace berth::engine
