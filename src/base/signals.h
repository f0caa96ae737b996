// Signal names as users and managers write them: "KILL", "SIGKILL", "sigkill", "9",
// "RTMIN+3". Used by `kill` and by anything that takes a stop signal from config.
#pragma once

#include <optional>
#include <string_view>

namespace berth {

// Parses a signal by name (with or without SIG, any case), by number (0 to SIGRTMAX), or as
// RTMIN, RTMIN+N, RTMAX, RTMAX-N (glibc's user-visible SIGRTMIN, as systemd counts).
std::optional<int> signal_from_string(std::string_view s);

// "SIGTERM", "SIGRTMIN+3"; nullptr for a number that names no signal.
const char* signal_name(int signal);

}  // namespace berth
