// Running a short-lived helper to completion: the OCI runtime's `delete` and `update`.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::engine {

struct CommandOutcome {
    int status = 0;          // as waitpid reports it
    std::string error_text;  // what it wrote to stderr (its first 64 KiB)

    bool succeeded() const;
};

// Runs args (args[0] a path, no PATH search) with stdin and stdout on /dev/null and stderr
// captured, and waits for it.
Result<CommandOutcome> run_command(std::vector<std::string> args);

}  // namespace berth::engine
