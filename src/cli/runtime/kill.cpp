#include "base/signals.h"
#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<int> verb_kill(VerbContext& ctx, Args args) {
    static constexpr FlagSpec kFlags[] = {
        {"all,a", FlagKind::Bool, "send the signal to every process in the container"},
    };
    auto a = BERTH_TRY(parse_args(args, kFlags));
    if (a.help()) return print_verb_help(ctx, "<container-id> [signal]", kFlags);
    BERTH_TRY(require_min_args(a, ctx.verb, 1));
    BERTH_TRY(require_max_args(a, ctx.verb, 2));
    std::string name = a.positional().size() > 1 ? a.positional()[1] : "SIGTERM";
    auto signal = signal_from_string(name);
    if (!signal) return Error() << "unknown signal \"" << name << "\"";
    BERTH_TRY(runtime::kill(ctx.global, a.positional()[0], *signal, a.flag("all")));
    return 0;
}

}  // namespace berth::cli
