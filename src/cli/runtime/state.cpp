#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<int> verb_state(VerbContext& ctx, Args args) {
    auto a = BERTH_TRY(parse_args(args, {}));
    if (a.help()) return print_verb_help(ctx, "<container-id>", {});
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    auto s = BERTH_TRY(runtime::state(ctx.global, a.positional()[0]));
    if (s.status == "stopped") s.pid = 0;  // runc shows no pid for a stopped container
    BERTH_TRY(print_out(runtime::state_json(s) + "\n"));
    return 0;
}

}  // namespace berth::cli
