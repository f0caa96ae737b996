// linux.seccomp for a new container: berth's default profile (docker's denied syscalls on an
// allow-by-default filter) or a profile file in docker's format (also read: the OCI format),
// both with docker's capability conditions applied to the container's capability set.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace berth::engine {

// caps: the container's bounding set ("CAP_SYS_ADMIN"...). Syscalls docker opens up with a
// capability (mount with CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE...) stay allowed then.
nlohmann::ordered_json default_seccomp(const std::vector<std::string>& caps);

// A docker profile ({defaultAction, archMap|architectures, syscalls[{names|name, action,
// errnoRet, args, includes, excludes}]}) as an OCI linux.seccomp object. Errors name `what`.
Result<nlohmann::ordered_json> seccomp_from_profile(std::string_view text,
                                                    const std::vector<std::string>& caps,
                                                    const std::string& what);

}  // namespace berth::engine
