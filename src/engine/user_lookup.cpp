#include "engine/user_lookup.h"

#include <sys/stat.h>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

struct Entry {
    std::vector<std::string> fields;
};

std::vector<Entry> parse_colon_file(std::string_view text) {
    std::vector<Entry> out;
    for (const auto& line : split(text, '\n')) {
        std::string_view l = trim(line);
        if (l.empty() || l.front() == '#') continue;
        out.push_back(Entry{split(l, ':')});
    }
    return out;
}

std::optional<uint32_t> number(std::string_view s) {
    return parse_number<uint32_t>(s);
}

}  // namespace

Result<ResolvedUser> resolve_user(std::string_view spec, std::string_view passwd,
                                  std::string_view group) {
    if (spec.empty()) spec = "0";
    std::string_view user_part = spec, group_part;
    if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
        user_part = spec.substr(0, colon);
        group_part = spec.substr(colon + 1);
    }
    const auto users = parse_colon_file(passwd);
    const auto groups = parse_colon_file(group);

    ResolvedUser r;
    std::string user_name;
    const Entry* found = nullptr;
    for (const auto& e : users) {
        if (e.fields.size() < 4) continue;
        if (e.fields[0] == user_part || (number(user_part) && e.fields[2] == user_part)) {
            found = &e;
            break;
        }
    }
    if (found) {
        auto uid = number(found->fields[2]);
        auto gid = number(found->fields[3]);
        if (!uid || !gid) {
            return Error(EINVAL) << "user `" << user_part << "`: malformed /etc/passwd entry";
        }
        r.uid = *uid;
        r.gid = *gid;
        user_name = found->fields[0];
        if (found->fields.size() >= 6) r.home = found->fields[5];
    } else if (auto uid = number(user_part)) {
        r.uid = *uid;
        r.gid = 0;
    } else {
        return Error(ENOENT) << "unable to find user " << user_part
                             << ": no matching entries in passwd file";
    }

    if (!group_part.empty()) {
        const Entry* g = nullptr;
        for (const auto& e : groups) {
            if (e.fields.size() < 3) continue;
            if (e.fields[0] == group_part || (number(group_part) && e.fields[2] == group_part)) {
                g = &e;
                break;
            }
        }
        if (g) {
            auto gid = number(g->fields[2]);
            if (!gid) return Error(EINVAL) << "group `" << group_part << "`: malformed entry";
            r.gid = *gid;
        } else if (auto gid = number(group_part)) {
            r.gid = *gid;
        } else {
            return Error(ENOENT) << "unable to find group " << group_part
                                 << ": no matching entries in group file";
        }
    } else if (!user_name.empty()) {
        // Supplementary groups only when the group was not given explicitly, as docker.
        for (const auto& e : groups) {
            if (e.fields.size() < 4) continue;
            auto gid = number(e.fields[2]);
            if (!gid || *gid == r.gid) continue;
            for (const auto& member : split(e.fields[3], ',')) {
                if (member == user_name) {
                    r.additional_gids.push_back(*gid);
                    break;
                }
            }
        }
    }
    return r;
}

Result<ResolvedUser> resolve_user_in_layers(std::string_view spec,
                                            const std::vector<std::string>& layer_dirs_top_first) {
    auto read_first = [&](const char* rel) -> std::string {
        for (const auto& dir : layer_dirs_top_first) {
            // Only regular files, reached without symlinks: an image must not make us read
            // the host's files.
            struct stat st;
            std::string etc = path_join(dir, "etc");
            std::string p = path_join(dir, rel);
            if (::lstat(p.c_str(), &st) != 0) continue;
            if (!S_ISREG(st.st_mode)) return {};
            if (::lstat(etc.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return {};
            auto text = read_file(p);
            return text.ok() ? *text : std::string();
        }
        return {};
    };
    return resolve_user(spec, read_first("etc/passwd"), read_first("etc/group"));
}

}  // namespace berth::engine
