// The verbs of berth-runtime, one file each, and what they share. A verb parses its flags
// into the api option structs, makes one api call and prints; runtime_main prints errors.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cli/runtime/args.h"
#include "runtime/api.h"

namespace berth::cli {

struct VerbContext {
    runtime::GlobalOptions global;
    std::string verb;  // as typed ("ls" for list)
    // Exit status when the verb fails: runc exits 255 when exec fails after its arguments
    // were accepted, so callers can tell that from the process's own status.
    int failure_exit = 1;
};

using Args = std::span<const std::string>;
// Returns the exit status (the container's own for foreground run and exec).
using VerbFn = Result<int> (*)(VerbContext& ctx, Args args);

Result<int> verb_create(VerbContext& ctx, Args args);
Result<int> verb_start(VerbContext& ctx, Args args);
Result<int> verb_run(VerbContext& ctx, Args args);
Result<int> verb_state(VerbContext& ctx, Args args);
Result<int> verb_kill(VerbContext& ctx, Args args);
Result<int> verb_delete(VerbContext& ctx, Args args);
Result<int> verb_list(VerbContext& ctx, Args args);
Result<int> verb_exec(VerbContext& ctx, Args args);
Result<int> verb_ps(VerbContext& ctx, Args args);
Result<int> verb_pause(VerbContext& ctx, Args args);
Result<int> verb_resume(VerbContext& ctx, Args args);
Result<int> verb_update(VerbContext& ctx, Args args);
Result<int> verb_events(VerbContext& ctx, Args args);
Result<int> verb_features(VerbContext& ctx, Args args);
Result<int> verb_spec(VerbContext& ctx, Args args);
Result<int> verb_checkpoint(VerbContext& ctx, Args args);
Result<int> verb_restore(VerbContext& ctx, Args args);

// The flags create and run share, and the options they fill (create.cpp).
std::vector<FlagSpec> create_flag_specs();
Result<runtime::CreateOptions> create_options(const ParsedArgs& a);

// Writes straight to fd 1, never through a stdio buffer: the runtime forks, and a buffer
// that a child inherits would be flushed twice.
Result<void> print_out(std::string_view text);
// `<verb> --help`: a usage line plus the flag table, on stdout.
Result<int> print_verb_help(const VerbContext& ctx, std::string_view usage,
                            std::span<const FlagSpec> specs);
// Relative paths made absolute against the current directory, as runc does before it
// changes directory into the bundle. Empty stays empty.
Result<std::string> absolute_path(const std::string& path);
// A JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace berth::cli
