#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<int> verb_features(VerbContext& ctx, Args args) {
    auto a = BERTH_TRY(parse_args(args, {}));
    if (a.help()) return print_verb_help(ctx, "", {});
    BERTH_TRY(require_exact_args(a, ctx.verb, 0));
    BERTH_TRY(print_out(runtime::features_json() + "\n"));
    return 0;
}

}  // namespace berth::cli
