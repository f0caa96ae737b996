// pause and resume: freeze and thaw the container's cgroup.
#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<int> verb_pause(VerbContext& ctx, Args args) {
    auto a = BERTH_TRY(parse_args(args, {}));
    if (a.help()) return print_verb_help(ctx, "<container-id>", {});
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    BERTH_TRY(runtime::pause(ctx.global, a.positional()[0]));
    return 0;
}

Result<int> verb_resume(VerbContext& ctx, Args args) {
    auto a = BERTH_TRY(parse_args(args, {}));
    if (a.help()) return print_verb_help(ctx, "<container-id>", {});
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    BERTH_TRY(runtime::resume(ctx.global, a.positional()[0]));
    return 0;
}

}  // namespace berth::cli
