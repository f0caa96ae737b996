#include "cli/runtime/verbs.h"

namespace berth::cli {

std::vector<FlagSpec> create_flag_specs() {
    return {
        {"bundle,b", FlagKind::Value, "path to the root of the bundle directory (default: .)"},
        {"console-socket", FlagKind::Value,
         "AF_UNIX socket that receives the pseudoterminal's master fd"},
        {"pid-file", FlagKind::Value, "file to write the process id to"},
        {"no-pivot", FlagKind::Bool, "do not use pivot_root to jail the process"},
        {"no-new-keyring", FlagKind::Bool, "do not create a new session keyring"},
        {"preserve-fds", FlagKind::Value, "pass N additional file descriptors to the container"},
    };
}

Result<runtime::CreateOptions> create_options(const ParsedArgs& a) {
    runtime::CreateOptions o;
    o.id = a.positional().at(0);
    // Absolute now: the runtime may change directory into the bundle before using them.
    o.bundle = BERTH_TRY(absolute_path(a.value_or("bundle", ".")));
    o.pid_file = BERTH_TRY(absolute_path(a.value_or("pid-file", "")));
    o.console_socket = BERTH_TRY(absolute_path(a.value_or("console-socket", "")));
    o.no_pivot = a.flag("no-pivot");
    o.no_new_keyring = a.flag("no-new-keyring");
    auto fds = BERTH_TRY(uint_flag(a, "preserve-fds"));
    if (fds && *fds > 65536) return Error() << "invalid value for preserve-fds: " << *fds;
    o.preserve_fds = static_cast<unsigned>(fds.value_or(0));
    return o;
}

Result<int> verb_create(VerbContext& ctx, Args args) {
    const auto specs = create_flag_specs();
    auto a = BERTH_TRY(parse_args(args, specs));
    if (a.help()) return print_verb_help(ctx, "<container-id>", specs);
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    auto o = BERTH_TRY(create_options(a));
    BERTH_TRY(runtime::create(ctx.global, o));
    return 0;
}

}  // namespace berth::cli
