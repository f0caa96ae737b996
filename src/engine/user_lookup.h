// `--user` / the image's User: "uid", "uid:gid", "name", "name:group" resolved as docker does,
// against the image's own /etc/passwd and /etc/group (never the host's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::engine {

struct ResolvedUser {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::vector<uint32_t> additional_gids;  // groups that list the user by name
    std::string home;                       // from passwd; empty when unknown
};

// passwd / group: the files' text (empty when the image has none). A numeric uid absent from
// passwd is fine (gid 0 then, as docker); a name that is absent is ENOENT.
Result<ResolvedUser> resolve_user(std::string_view spec, std::string_view passwd,
                                  std::string_view group);

// Reads <dir>/etc/passwd and etc/group from the first of `layer_dirs_top_first` that has each
// (a whiteout is not honoured: good enough for lookups) and resolves `spec`.
Result<ResolvedUser> resolve_user_in_layers(std::string_view spec,
                                            const std::vector<std::string>& layer_dirs_top_first);

}  // namespace berth::engine
