// `berth exec`, `pause`, `unpause` and `top`: work on a running container's task through its
// OCI runtime, with docker's exit statuses (125 berth's own errors, 126 cannot execute, 127
// not found, else the process's).
#include <unistd.h>

#include <memory>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "engine/exec.h"

namespace berth::cli {
namespace {

struct ExecCliOptions {
    engine::ExecOptions exec;
    std::string container;
    std::string user;
};

Result<int> run_exec(Context& ctx, ExecCliOptions& o, const CLI::App* c) {
    o.exec.command = c->remaining();
    if (!o.exec.command.empty() && o.exec.command.front() == "--") {
        o.exec.command.erase(o.exec.command.begin());
    }
    if (o.exec.command.empty()) return Error(EINVAL) << "exec: no command given";
    if (c->count("--user")) o.exec.user = o.user;
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.container));
    auto out = BERTH_TRY(engine::exec_in_container(eng.paths(), v, o.exec));
    if (!out.runtime_error.empty()) {
        ctx.failure_exit = out.exit_code;
        return Error(EIO) << "OCI runtime exec failed: " << out.runtime_error;
    }
    return out.exit_code;
}

CLI::App* add_exec(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<ExecCliOptions>();
    CLI::App* c = parent.add_subcommand(name, "run a command in a running container");
    c->add_flag("-d,--detach", o->exec.detach, "run the command in the background");
    c->add_option("-e,--env", o->exec.env, "set an environment variable (K=V, or K for berth's)")
        ->allow_extra_args(false);
    c->add_option("-u,--user", o->user, "user[:group] (names from the container's /etc/passwd)");
    c->add_option("-w,--workdir", o->exec.workdir, "working directory inside the container");
    c->add_flag("-t,--tty", o->exec.tty, "allocate a pseudo-terminal");
    c->add_flag("-i,--interactive", o->exec.interactive, "keep stdin open");
    c->add_option("container", o->container, "CONTAINER COMMAND [ARG...]")->required();
    // Everything after the container belongs to the command.
    c->prefix_command();
    c->allow_extras();
    c->fallthrough(false);
    c->callback([&ctx, o, c] { ctx.action = [&ctx, o, c] { return run_exec(ctx, *o, c); }; });
    return c;
}

struct NamesOptions {
    std::vector<std::string> names;
};

Result<int> run_pause(Context& ctx, const NamesOptions& o, bool pause) {
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(eng.find(name));
        if (pause) {
            BERTH_TRY(engine::pause_container(eng.paths(), v));
        } else {
            BERTH_TRY(engine::resume_container(eng.paths(), v));
        }
        BERTH_TRY(print_out(name + "\n"));
    }
    return 0;
}

CLI::App* add_pause(CLI::App& parent, Context& ctx, const std::string& name, bool pause) {
    auto o = std::make_shared<NamesOptions>();
    CLI::App* c = parent.add_subcommand(
        name, pause ? "pause every process of containers" : "unpause containers");
    c->add_option("container", o->names, "containers")->required();
    c->callback(
        [&ctx, o, pause] { ctx.action = [&ctx, o, pause] { return run_pause(ctx, *o, pause); }; });
    return c;
}

struct TopOptions {
    std::string name;
};

std::string pad(std::string s, size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

Result<int> run_top(Context& ctx, const TopOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.name));
    auto rows = BERTH_TRY(engine::container_processes(eng.paths(), v));
    size_t pid_w = 3, user_w = 4, time_w = 4;
    for (const auto& r : rows) {
        pid_w = std::max(pid_w, std::to_string(r.pid).size());
        user_w = std::max(user_w, r.user.size());
        time_w = std::max(time_w, r.time.size());
    }
    std::string out =
        pad("PID", pid_w) + "  " + pad("USER", user_w) + "  " + pad("TIME", time_w) + "  COMMAND\n";
    for (const auto& r : rows) {
        out += pad(std::to_string(r.pid), pid_w) + "  " + pad(r.user, user_w) + "  " +
               pad(r.time, time_w) + "  " + r.command + "\n";
    }
    BERTH_TRY(print_out(out));
    return 0;
}

CLI::App* add_top(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<TopOptions>();
    CLI::App* c = parent.add_subcommand(name, "list the processes of a container");
    c->add_option("container", o->name, "container")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_top(ctx, *o); }; });
    return c;
}

}  // namespace

void add_container_task_commands(CLI::App& parent, Context& ctx) {
    add_exec(parent, ctx, "exec");
    add_pause(parent, ctx, "pause", true);
    add_pause(parent, ctx, "unpause", false);
    add_top(parent, ctx, "top");
    add_container_attach(parent, ctx, "attach");
}

}  // namespace berth::cli
