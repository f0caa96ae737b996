#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<int> verb_delete(VerbContext& ctx, Args args) {
    static constexpr FlagSpec kFlags[] = {
        {"force,f", FlagKind::Bool, "kill the container with SIGKILL first if it still runs"},
    };
    auto a = BERTH_TRY(parse_args(args, kFlags));
    if (a.help()) return print_verb_help(ctx, "<container-id>", kFlags);
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    BERTH_TRY(runtime::remove(ctx.global, a.positional()[0], a.flag("force")));
    return 0;
}

}  // namespace berth::cli
