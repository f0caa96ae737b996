// spec: writes a starter config.json into the bundle, never over an existing one.
#include <fcntl.h>

#include "base/file.h"
#include "base/unique_fd.h"
#include "cli/runtime/verbs.h"
#include "oci/spec.h"

namespace berth::cli {

Result<int> verb_spec(VerbContext& ctx, Args args) {
    static constexpr FlagSpec kFlags[] = {
        {"bundle,b", FlagKind::Value, "path to the root of the bundle directory (default: .)"},
        {"rootless", FlagKind::Bool, "generate a configuration for a rootless container"},
    };
    auto a = BERTH_TRY(parse_args(args, kFlags));
    if (a.help()) return print_verb_help(ctx, "", kFlags);
    BERTH_TRY(require_exact_args(a, ctx.verb, 0));
    std::string bundle = a.value_or("bundle", ".");
    if (!is_directory(bundle)) return Error(ENOENT) << "bundle `" << bundle << "`";
    std::string path = path_join(bundle, "config.json");
    // O_EXCL: two concurrent `spec` runs cannot both write.
    auto fd = open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (!fd.ok()) {
        if (fd.error().errno_value() == EEXIST) {
            return Error() << "File config.json exists. Remove it first";
        }
        return std::move(fd).error();
    }
    BERTH_TRY_CTX(write_all(*fd, oci::default_spec_json(a.flag("rootless"))),
                  "writing `" + path + "`");
    return 0;
}

}  // namespace berth::cli
