// OCI hooks: each runs with the container state JSON on stdin, its own env and args, and an
// optional timeout after which it is killed.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// Runs the hooks in order; the first failure stops the rest and is returned, naming the
// hook kind and index: "hooks.prestart[1] (`/usr/bin/x`): exited with status 3".
Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const char* kind,
                       const std::string& state_json);

}  // namespace berth::runtime
