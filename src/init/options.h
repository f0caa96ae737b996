// berth-init's command line, parsed without getopt (no global state, so tests can parse twice)
// and without std::string: the binary is static and must stay as small as tini-static.
#pragma once

#include <cstdint>

namespace berth::init {

// Exit codes (0-255) that -e maps to 0.
class ExitCodeSet {
  public:
    void add(unsigned code) {
        if (code < 256) bits_[code / 64] |= uint64_t{1} << (code % 64);
    }
    bool contains(int code) const {
        return code >= 0 && code < 256 && ((bits_[code / 64] >> (code % 64)) & 1) != 0;
    }

  private:
    uint64_t bits_[4] = {};
};

// Message levels; -v raises the level by one, -q lowers it to 0 (fatal errors only).
enum Verbosity : int { kFatal = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

struct Options {
    int verbosity = kWarn;
    bool subreaper = false;       // -s: PR_SET_CHILD_SUBREAPER when not PID 1
    bool process_group = false;   // -g: forward signals to the child's process group
    bool warn_on_reap = false;    // -w: warn about every zombie that is not the child
    bool pause = false;           // --pause: no child, sleep and reap until SIGTERM/SIGINT
    int parent_death_signal = 0;  // -p: PR_SET_PDEATHSIG, 0 when not asked for
    ExitCodeSet expected_codes;   // -e: exit codes reported as 0
    char** command = nullptr;     // argv tail (null-terminated); null with --pause
};

enum class ParseAction { kRun, kHelp, kVersion, kUsageError };

struct ParseResult {
    ParseAction action = ParseAction::kRun;
    char error[128] = {};  // set for kUsageError
};

// Parses argv[1..]; options stop at the first non-option or after "--".
ParseResult parse_options(int argc, char** argv, Options& out);

// Writes the usage text to fd.
void print_usage(int fd, const char* argv0);

}  // namespace berth::init
