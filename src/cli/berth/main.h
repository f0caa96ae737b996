#pragma once

namespace berth::cli {
// The `berth` command: podman's global options, then a command. Returns the exit status (125
// for berth's own errors, printed once as "Error: ...").
int berth_main(int argc, char** argv);
}  // namespace berth::cli
