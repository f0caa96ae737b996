// Writing a child's user-namespace id maps as an unprivileged caller: the kernel lets it map
// only its own uid/gid directly; anything else (its /etc/subuid ranges) goes through the
// setuid helpers newuidmap/newgidmap (Debian's uidmap package), the one tool berth-runtime
// execs, since checking /etc/subuid with privilege is their whole purpose.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// "0 1000 1\n..." as /proc/PID/uid_map takes it.
std::string id_map_text(const std::vector<oci::IdMapping>& maps);
// True when the maps are one range of size 1 onto `own` (the caller's euid or egid): the
// mapping an unprivileged process may write itself.
bool is_own_id_map(const std::vector<oci::IdMapping>& maps, uint32_t own);
// newuidmap's argv after the program: PID, then container-id host-id size per range.
std::vector<std::string> id_map_helper_args(pid_t pid, const std::vector<oci::IdMapping>& maps);
// `name` in the colon-separated `search_path`, then in /usr/bin and /bin; errors name
// `field` and the package to install.
Result<std::string> find_id_map_helper(const std::string& name, const std::string& search_path,
                                       std::string_view field);
// Runs the helper on pid's maps and waits; its exit status and output go in the error.
Result<void> run_id_map_helper(const std::string& helper, pid_t pid,
                               const std::vector<oci::IdMapping>& maps, std::string_view field);

}  // namespace berth::runtime
