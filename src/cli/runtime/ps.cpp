// ps: the container's pids as JSON, or the host's `ps` output cut down to those pids, found by
// the PID column of ps's header (what runc does; the ps options are the user's own).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "cli/runtime/verbs.h"

extern char** environ;

namespace berth::cli {
namespace {

std::vector<std::string> fields(std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') i++;
        if (i > start) out.emplace_back(line.substr(start, i - start));
    }
    return out;
}

// Runs `ps <options>` with stdout and stderr into one pipe; returns what it printed.
Result<std::string> run_ps(const std::vector<std::string>& options) {
    auto pipe = BERTH_TRY(make_pipe());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe.second.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe.second.get(), STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>("ps"));
    for (const auto& o : options) argv.push_back(const_cast<char*>(o.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    int err = posix_spawnp(&pid, "ps", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) return Error::from_errno(err) << "running ps";
    pipe.second.reset();
    auto output = read_fd(pipe.first);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!output) return std::move(output).error().wrap("reading ps output");
    if (WIFSIGNALED(status)) {
        return Error() << "ps: signal " << WTERMSIG(status) << ": " << trim(*output);
    }
    if (WEXITSTATUS(status) != 0) {
        return Error() << "ps: exit status " << WEXITSTATUS(status) << ": " << trim(*output);
    }
    return output;
}

}  // namespace

Result<int> verb_ps(VerbContext& ctx, Args args) {
    static constexpr FlagSpec kFlags[] = {
        {"format,f", FlagKind::Value, "select one of: table or json (default: table)"},
    };
    auto a = BERTH_TRY(parse_args(args, kFlags, Positionals::StopAtFirst));
    if (a.help()) return print_verb_help(ctx, "<container-id> [ps options]", kFlags);
    BERTH_TRY(require_min_args(a, ctx.verb, 1));
    std::string format = a.value_or("format", "table");
    if (format != "table" && format != "json") return Error() << "invalid format option";
    auto pids = BERTH_TRY(runtime::pids(ctx.global, a.positional()[0]));

    if (format == "json") {
        if (pids.empty()) {  // encoding/json: a nil slice is null
            BERTH_TRY(print_out("null\n"));
            return 0;
        }
        std::string out = "[";
        for (size_t i = 0; i < pids.size(); i++) {
            if (i) out += ',';
            out += std::to_string(pids[i]);
        }
        out += "]\n";
        BERTH_TRY(print_out(out));
        return 0;
    }

    std::vector<std::string> options(a.positional().begin() + 1, a.positional().end());
    if (options.empty()) options = {"-ef"};
    std::string output = BERTH_TRY(run_ps(options));
    auto lines = split(output, '\n');
    auto header = fields(lines[0]);
    auto pid_column = std::find(header.begin(), header.end(), "PID");
    if (pid_column == header.end()) return Error() << "couldn't find PID field in ps output";
    size_t column = static_cast<size_t>(pid_column - header.begin());
    std::string out = lines[0] + "\n";
    for (size_t i = 1; i < lines.size(); i++) {
        if (lines[i].empty()) continue;
        auto f = fields(lines[i]);
        if (f.size() <= column) continue;
        auto pid = parse_number<pid_t>(f[column]);
        if (!pid) return Error() << "unable to parse pid: \"" << f[column] << "\"";
        if (std::find(pids.begin(), pids.end(), *pid) != pids.end()) out += lines[i] + "\n";
    }
    BERTH_TRY(print_out(out));
    return 0;
}

}  // namespace berth::cli
