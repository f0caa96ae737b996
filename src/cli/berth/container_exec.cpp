// `berth exec`, `pause`, `unpause` and `top`: work on a running container's task through its
// OCI runtime, with docker's exit statuses (125 berth's own errors, 126 cannot execute, 127
// not found, else the process's).
#include <unistd.h>

#include <memory>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/table_output.h"
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
    BERTH_TRY(pause_containers(ctx, o.names, pause, true));
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

Result<int> run_top(Context& ctx, const TopOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.name));
    std::vector<std::vector<std::string>> table = {{"PID", "USER", "TIME", "COMMAND"}};
    for (const auto& r : BERTH_TRY(engine::container_processes(eng.paths(), v))) {
        table.push_back({std::to_string(r.pid), r.user, r.time, r.command});
    }
    BERTH_TRY(print_out(aligned_table(table)));
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
