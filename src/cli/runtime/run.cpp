#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<int> verb_run(VerbContext& ctx, Args args) {
    auto specs = create_flag_specs();
    specs.push_back({"detach,d", FlagKind::Bool, "detach from the container's process"});
    specs.push_back({"keep", FlagKind::Bool, "do not delete the container after it exits"});
    auto a = BERTH_TRY(parse_args(args, specs));
    if (a.help()) return print_verb_help(ctx, "<container-id>", specs);
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    auto o = BERTH_TRY(create_options(a));
    o.keep = a.flag("keep");
    // Foreground: the container's exit status becomes ours.
    return runtime::run(ctx.global, o, a.flag("detach"));
}

}  // namespace berth::cli
