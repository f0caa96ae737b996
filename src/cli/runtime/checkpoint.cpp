// checkpoint and restore need CRIU, which berth-runtime does not drive: a clear refusal.
#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<int> verb_checkpoint(VerbContext& ctx, Args) {
    return Error() << ctx.verb << " is not supported: berth-runtime has no CRIU support";
}

Result<int> verb_restore(VerbContext& ctx, Args) {
    return Error() << ctx.verb << " is not supported: berth-runtime has no CRIU support";
}

}  // namespace berth::cli
