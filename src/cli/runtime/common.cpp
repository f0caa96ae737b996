#include <unistd.h>

#include <climits>

#include "base/file.h"
#include "base/strings.h"
#include "cli/runtime/verbs.h"

namespace berth::cli {

Result<void> print_out(std::string_view text) {
    auto r = write_all(STDOUT_FILENO, text);
    if (!r) return std::move(r).error().wrap("writing to stdout");
    return {};
}

Result<int> print_verb_help(const VerbContext& ctx, std::string_view usage,
                            std::span<const FlagSpec> specs) {
    std::string text = "Usage: berth-runtime " + ctx.verb + " [command options] ";
    text += usage;
    text += "\n";
    if (!specs.empty()) {
        text += "\nOptions:\n";
        text += flags_help(specs);
    }
    BERTH_TRY(print_out(text));
    return 0;
}

Result<std::string> absolute_path(const std::string& path) {
    if (path.empty()) return path;
    if (path[0] == '/') return path_clean(path);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError() << "getcwd";
    return path_clean(path_join(cwd, path));
}

std::string json_quote(std::string_view s) {
    return "\"" + json_escape(s) + "\"";
}

}  // namespace berth::cli
