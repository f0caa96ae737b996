#include "init/main.h"

#include <stdio.h>
#include <unistd.h>

#include "base/version.h"
#include "init/init.h"
#include "init/message.h"

namespace berth::init {

int init_main(int argc, char** argv) {
    const char* argv0 = argc > 0 ? argv[0] : "berth-init";
    Options options;
    const ParseResult parsed = parse_options(argc, argv, options);
    switch (parsed.action) {
        case ParseAction::kRun:
            return run(options);
        case ParseAction::kHelp:
            print_usage(STDOUT_FILENO, argv0);
            return 0;
        case ParseAction::kVersion:
            dprintf(STDOUT_FILENO, "berth-init version %s (commit %s)\n", berth::version(),
                    berth::commit());
            return 0;
        case ParseAction::kUsageError:
            message(kFatal, "%s", parsed.error);
            dprintf(STDERR_FILENO, "Usage: %s [OPTIONS] [--] COMMAND [ARGS...] (see --help)\n",
                    argv0);
            return 1;
    }
    return 1;
}

}  // namespace berth::init
