// berth-runtime's entry: runc's global flags, then one verb from the table. Every failure
// comes back here and is printed once: to the --log file (containerd and conmon read errors
// only from there) and to stderr.
#include "cli/runtime/main.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/version.h"
#include "cli/runtime/verbs.h"

namespace berth::cli {
namespace {

struct VerbEntry {
    const char* name;
    VerbFn fn;
    const char* summary;
};

constexpr VerbEntry kVerbs[] = {
    {"checkpoint", verb_checkpoint, "checkpoint a running container (not supported)"},
    {"create", verb_create, "create a container"},
    {"delete", verb_delete, "delete any resources held by the container"},
    {"events", verb_events, "display container events such as OOM notifications and stats"},
    {"exec", verb_exec, "execute new process inside the container"},
    {"features", verb_features, "show the enabled features"},
    {"kill", verb_kill, "send a signal to the container's init process"},
    {"list", verb_list, "list containers started with the given root"},
    {"ls", verb_list, "alias of list"},
    {"pause", verb_pause, "suspend all processes inside the container"},
    {"ps", verb_ps, "display the processes running inside a container"},
    {"restore", verb_restore, "restore a container from a checkpoint (not supported)"},
    {"resume", verb_resume, "resume all processes that have been previously paused"},
    {"run", verb_run, "create and run a container"},
    {"spec", verb_spec, "create a new specification file"},
    {"start", verb_start, "execute the user defined process in a created container"},
    {"state", verb_state, "output the state of a container"},
    {"update", verb_update, "update container resource constraints"},
};

constexpr FlagSpec kGlobalFlags[] = {
    {"debug", FlagKind::Bool, "enable debug logging"},
    {"log", FlagKind::Value, "set the log file to write logs to (default is stderr)"},
    {"log-format", FlagKind::Value, "set the log format ('text' (default), or 'json')"},
    {"root", FlagKind::Value, "root directory for storage of container state"},
    {"criu", FlagKind::Value, "path to the criu binary (accepted, unused)"},
    {"systemd-cgroup", FlagKind::Bool,
     "use systemd to manage cgroups (cgroupsPath slice:prefix:name)"},
    {"rootless", FlagKind::Value, "ignore cgroup permission errors ('true', 'false', or 'auto')"},
    {"version,v", FlagKind::Bool, "print the version"},
};

constexpr const char* kDefaultRoot = "/run/berth-runtime";

std::string usage_text() {
    std::string text =
        "berth-runtime: an OCI container runtime with runc's command line\n\n"
        "Usage: berth-runtime [global options] command [command options] [arguments...]\n\n"
        "Commands:\n";
    for (const auto& v : kVerbs) {
        std::string line = "   ";
        line += v.name;
        line.resize(16, ' ');
        text += line + v.summary + "\n";
    }
    text += "\nGlobal options:\n";
    text += flags_help(kGlobalFlags);
    static constexpr FlagSpec kHelp[] = {{"help,h", FlagKind::Bool, "show help"}};
    text += flags_help(kHelp);
    return text;
}

std::string version_text() {
    std::string text = "berth-runtime version ";
    text += berth::version();
    text += "\ncommit: ";
    text += berth::commit();
    text += "\nspec: ";
    text += runtime::kOciSpecVersion;
    text += "\n";
    return text;
}

// Root as runc resolves it: absolute, never "/", under $XDG_RUNTIME_DIR for non-root users.
Result<std::string> resolve_root(const ParsedArgs& a) {
    if (auto root = a.value("root")) {
        std::string abs = BERTH_TRY(absolute_path(*root));
        if (abs == "/" || root->empty()) {
            return Error() << "option --root argument should not be set to /";
        }
        return abs;
    }
    const char* xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() != 0 && xdg != nullptr && xdg[0] != '\0') {
        return std::string(xdg) + "/berth-runtime";
    }
    return std::string(kDefaultRoot);
}

Result<void> configure_logging(const ParsedArgs& a) {
    std::string format = a.value_or("log-format", "text");
    log::Format f;
    if (format == "text") {
        f = log::Format::Text;
    } else if (format == "json") {
        f = log::Format::Json;
    } else {
        return Error() << "invalid log-format: " << format;
    }
    return log::configure(a.value_or("log", ""), f, a.flag("debug"));
}

Result<void> check_rootless(const ParsedArgs& a) {
    auto v = a.value("rootless");
    if (!v || v->empty() || *v == "auto" || *v == "AUTO" || *v == "Auto") return {};
    if (!parse_go_bool(*v)) return Error() << "invalid --rootless value: " << *v;
    return {};
}

void report(std::string_view message) {
    if (log::to_file()) log::error(message);
    // One line on stderr whatever the message holds (ps output, for one).
    std::string line = "berth-runtime: ";
    for (char c : message) line += c == '\n' ? ' ' : c;
    while (line.back() == ' ') line.pop_back();
    line += '\n';
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

// Parses globals and runs the verb. Ok(status) is the process's exit status.
Result<int> dispatch(const std::vector<std::string>& argv, VerbContext& ctx) {
    ParsedArgs globals = BERTH_TRY(parse_args(argv, kGlobalFlags, Positionals::StopAtFirst));
    // Logging first, so that every later error also reaches the --log file.
    BERTH_TRY(configure_logging(globals));
    if (globals.flag("version")) {
        BERTH_TRY(print_out(version_text()));
        return 0;
    }
    const auto& rest = globals.positional();
    // No command at all shows the usage, as runc does.
    if (globals.help() || rest.empty() || rest[0] == "help" || rest[0] == "h") {
        BERTH_TRY(print_out(usage_text()));
        return 0;
    }
    BERTH_TRY(check_rootless(globals));
    ctx.global.root = BERTH_TRY(resolve_root(globals));
    ctx.global.systemd_cgroup = globals.flag("systemd-cgroup");
    ctx.global.debug = globals.flag("debug");
    ctx.verb = rest[0];
    for (const auto& v : kVerbs) {
        if (ctx.verb == v.name) {
            return v.fn(ctx, Args(rest).subspan(1));
        }
    }
    return Error() << "no such command: " << ctx.verb;
}

}  // namespace

int runtime_main(int argc, char** argv) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    VerbContext ctx;
    auto r = dispatch(args, ctx);
    if (r.ok()) return *r;
    report(r.error().what());
    return ctx.failure_exit;
}

}  // namespace berth::cli
