// exec: a whole process from --process FILE, or the container's own process spec with the
// flags laid over it, as runc builds it. Everything after the container id is the command.
#include "base/file.h"
#include "base/strings.h"
#include "cli/runtime/verbs.h"
#include "oci/spec.h"

namespace berth::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"console-socket", FlagKind::Value,
     "AF_UNIX socket that receives the pseudoterminal's master fd"},
    {"cwd", FlagKind::Value, "current working directory in the container"},
    {"env,e", FlagKind::List, "set an environment variable (repeatable)"},
    {"tty,t", FlagKind::Bool, "allocate a pseudo-TTY"},
    {"user,u", FlagKind::Value, "UID (format: <uid>[:<gid>])"},
    {"additional-gids,g", FlagKind::List, "additional gids (repeatable)"},
    {"process,p", FlagKind::Value, "path to the process.json"},
    {"detach,d", FlagKind::Bool, "detach from the container's process"},
    {"pid-file", FlagKind::Value, "file to write the process id to"},
    {"process-label", FlagKind::Value, "SELinux label for the process"},
    {"apparmor", FlagKind::Value, "AppArmor profile for the process"},
    {"no-new-privs", FlagKind::Bool, "set the no new privileges value for the process"},
    {"cap,c", FlagKind::List, "add a capability to the process (repeatable)"},
    {"preserve-fds", FlagKind::Value, "pass N additional file descriptors to the process"},
    {"cgroup", FlagKind::List, "run the process in a sub-cgroup (not supported)"},
    {"ignore-paused", FlagKind::Bool, "allow exec in a paused container"},
};

Result<uint32_t> parse_id(std::string_view text, std::string_view what) {
    auto n = parse_number<uint32_t>(text);
    if (!n) return Error() << "bad " << what << ": \"" << text << "\"";
    return *n;
}

Result<void> apply_user(oci::Process& p, std::string_view user) {
    size_t colon = user.find(':');
    if (colon != std::string_view::npos) {
        p.user.gid = BERTH_TRY(parse_id(user.substr(colon + 1), "gid"));
    }
    p.user.uid = BERTH_TRY(parse_id(user.substr(0, colon), "uid"));
    return {};
}

// runc's flag form: the init process, then the flags on top of it.
Result<oci::Process> process_from_flags(const VerbContext& ctx, const ParsedArgs& a) {
    const auto& pos = a.positional();
    std::vector<std::string> command(pos.begin() + 1, pos.end());
    if (!command.empty() && command[0] == "--") command.erase(command.begin());
    if (command.empty()) return Error() << "exec args cannot be empty";

    oci::Process p = BERTH_TRY(runtime::init_process(ctx.global, pos[0]));
    p.args = std::move(command);
    if (auto cwd = a.value("cwd"); cwd && !cwd->empty()) p.cwd = *cwd;
    if (auto ap = a.value("apparmor"); ap && !ap->empty()) p.apparmor_profile = *ap;
    if (auto label = a.value("process-label"); label && !label->empty()) p.selinux_label = *label;
    auto caps = a.values("cap");
    if (!caps.empty()) {
        if (!p.capabilities) p.capabilities.emplace();
        auto& c = *p.capabilities;
        // Ambient needs inheritable, which --cap does not add: only when the spec has some.
        bool ambient = !c.inheritable.empty();
        for (const auto& cap : caps) {
            c.bounding.push_back(cap);
            c.effective.push_back(cap);
            c.permitted.push_back(cap);
            if (ambient) c.ambient.push_back(cap);
        }
    }
    for (auto& e : a.values("env")) p.env.push_back(std::move(e));
    p.terminal = a.flag("tty");  // never inherited from the init process
    if (a.has("no-new-privs")) p.no_new_privileges = a.flag("no-new-privs");
    if (auto user = a.value("user"); user && !user->empty()) BERTH_TRY(apply_user(p, *user));
    for (const auto& list : a.values("additional-gids")) {
        for (const auto& g : split(list, ',')) {
            p.user.additional_gids.push_back(BERTH_TRY(parse_id(g, "additional gid")));
        }
    }
    return p;
}

}  // namespace

Result<int> verb_exec(VerbContext& ctx, Args args) {
    auto a = BERTH_TRY(parse_args(args, kFlags, Positionals::StopAtFirst));
    if (a.help()) {
        return print_verb_help(ctx,
                               "<container-id> <command> [args...] | -p process.json "
                               "<container-id>",
                               kFlags);
    }
    BERTH_TRY(require_min_args(a, ctx.verb, 1));
    if (!a.values("cgroup").empty()) return Error() << "exec --cgroup is not supported";
    // From here on a failure is the exec's, which runc reports with status 255.
    ctx.failure_exit = 255;
    auto r = [&]() -> Result<int> {
        const std::string& id = a.positional()[0];
        auto st = BERTH_TRY(runtime::state(ctx.global, id));
        if (st.status == "stopped") return Error() << "cannot exec in a stopped container";
        if (st.status == "paused" && !a.flag("ignore-paused")) {
            return Error() << "cannot exec in a paused container (use --ignore-paused to "
                              "override)";
        }
        runtime::ExecOptions o;
        o.id = id;
        if (auto path = a.value("process"); path && !path->empty()) {
            std::string text = BERTH_TRY(read_file(*path));
            o.process = BERTH_TRY_CTX(oci::parse_process(text), "process " + *path);
        } else {
            o.process = BERTH_TRY(process_from_flags(ctx, a));
        }
        o.console_socket = BERTH_TRY(absolute_path(a.value_or("console-socket", "")));
        o.pid_file = BERTH_TRY(absolute_path(a.value_or("pid-file", "")));
        o.detach = a.flag("detach");
        auto fds = BERTH_TRY(uint_flag(a, "preserve-fds"));
        if (fds && *fds > 65536) return Error() << "invalid value for preserve-fds: " << *fds;
        o.preserve_fds = static_cast<unsigned>(fds.value_or(0));
        return runtime::exec(ctx.global, o);
    }();
    if (!r.ok()) return std::move(r).error().wrap("exec failed");
    return r;
}

}  // namespace berth::cli
