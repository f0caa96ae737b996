// `berth stop`, `kill`, `rm`, `wait`, `logs` and `system gc`.
#include <signal.h>
#include <unistd.h>

#include <memory>

#include "base/signals.h"
#include "base/strings.h"
#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "engine/cri_reader.h"
#include "engine/exit_record.h"

namespace berth::cli {
namespace {

// podman's statuses for a container that does not exist (rm: 1).
Result<engine::ContainerView> find_or(Context& ctx, engine::Engine& eng, const std::string& name,
                                      int not_found_exit) {
    auto v = eng.find(name);
    if (!v.ok() && v.error().errno_value() == ENOENT) ctx.failure_exit = not_found_exit;
    return v;
}

void warn(const std::string& text) {
    std::string line = "Warning: " + text + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

struct StopOptions {
    std::vector<std::string> names;
    int timeout = -1;
};

Result<int> run_stop(Context& ctx, const StopOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(find_or(ctx, eng, name, 125));
        std::string warning;
        std::optional<int> t;
        if (o.timeout >= 0) t = o.timeout;
        // The hint is printed before the wait, so that the user knows what the wait is.
        if (v.running() && v.task && v.task->pid > 0) {
            int sig = signal_from_string(v.record.stop_signal).value_or(SIGTERM);
            int secs = t.value_or(v.record.stop_timeout);
            if (secs > 0 && engine::catches_signal(v.task->pid, sig) == false) {
                warn("the container's PID 1 has no handler for " + v.record.stop_signal +
                     " (/proc/" + std::to_string(v.task->pid) +
                     "/status SigCgt), and a namespace's init ignores signals it does not "
                     "handle: it will be killed with SIGKILL after " +
                     std::to_string(secs) +
                     " seconds. Run it with --init, or make it handle the signal");
            }
        }
        BERTH_TRY(eng.stop(v, t, nullptr));
        BERTH_TRY(print_out(name + "\n"));
    }
    return 0;
}

struct KillOptions {
    std::vector<std::string> names;
    std::string signal = "KILL";
};

Result<int> run_kill(Context& ctx, const KillOptions& o) {
    auto sig = signal_from_string(o.signal);
    if (!sig || *sig == 0) return Error(EINVAL) << "invalid signal `" << o.signal << "`";
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(find_or(ctx, eng, name, 125));
        BERTH_TRY(eng.kill(v, *sig));
        BERTH_TRY(print_out(name + "\n"));
    }
    return 0;
}

struct RmOptions {
    std::vector<std::string> names;
    bool force = false;
    bool all = false;
};

Result<int> run_rm(Context& ctx, const RmOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    std::vector<std::string> names = o.names;
    if (o.all) {
        for (const auto& v : BERTH_TRY(eng.list())) names.push_back(v.record.id);
    }
    if (names.empty()) return Error(EINVAL) << "rm: name a container or use --all";
    for (const auto& name : names) {
        auto v = find_or(ctx, eng, name, 1);
        if (!v.ok()) return std::move(v).error();
        auto r = eng.remove(*v, o.force);
        if (!r.ok()) {
            if (r.error().errno_value() == EBUSY) ctx.failure_exit = 2;
            return std::move(r).error();
        }
        BERTH_TRY(print_out((o.all ? v->record.id : name) + "\n"));
    }
    return 0;
}

struct WaitOptions {
    std::vector<std::string> names;
};

Result<int> run_wait(Context& ctx, const WaitOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto found = eng.find(name);
        if (!found.ok() && found.error().errno_value() == ENOENT) {
            // Removed already (a --rm container that exited at once): its kept exit status.
            if (auto kept = engine::find_exit_record(eng.paths(), name)) {
                engine::ContainerView gone;
                gone.task = std::move(kept);
                gone.state = "exited";
                BERTH_TRY(print_out(std::to_string(exit_status(gone)) + "\n"));
                continue;
            }
        }
        if (!found.ok() && found.error().errno_value() == ENOENT) ctx.failure_exit = 125;
        auto v = BERTH_TRY(std::move(found));
        auto done = BERTH_TRY(eng.wait(v.record));
        BERTH_TRY(print_out(std::to_string(exit_status(done)) + "\n"));
    }
    return 0;
}

struct LogsOptions {
    std::string name;
    bool follow = false, timestamps = false;
    std::string tail = "all";
};

Result<int> run_logs(Context& ctx, const LogsOptions& o) {
    size_t tail = SIZE_MAX;
    if (o.tail != "all" && o.tail != "-1") {
        auto n = parse_number<size_t>(o.tail);
        if (!n) return Error(EINVAL) << "--tail `" << o.tail << "`: want a number or all";
        tail = *n;
    }
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(find_or(ctx, eng, o.name, 125));
    if (o.follow) {
        BERTH_TRY(follow_log(eng, v.record, o.timestamps, false, tail));
        return 0;
    }
    engine::LogFollower f(v.record.log_path);
    auto records = BERTH_TRY(f.read_new());
    if (tail != SIZE_MAX) records = engine::tail_lines(records, tail);
    engine::LogPrinter p(o.timestamps);
    BERTH_TRY(p.print(records));
    return 0;
}

Result<int> run_gc(Context& ctx) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto report = BERTH_TRY(eng.gc());
    std::string out;
    for (const auto& line : report.removed) out += "removed " + line + "\n";
    BERTH_TRY(print_out(out));
    return 0;
}

}  // namespace

CLI::App* add_container_stop(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<StopOptions>();
    CLI::App* c = parent.add_subcommand(name, "stop containers (stop signal, then SIGKILL)");
    c->add_option("-t,--time", o->timeout, "seconds before SIGKILL (default: the container's)");
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_stop(ctx, *o); }; });
    return c;
}

CLI::App* add_container_kill(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<KillOptions>();
    CLI::App* c = parent.add_subcommand(name, "send a signal to containers' PID 1");
    c->add_option("-s,--signal", o->signal, "signal name or number")->capture_default_str();
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_kill(ctx, *o); }; });
    return c;
}

CLI::App* add_container_rm(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<RmOptions>();
    CLI::App* c = parent.add_subcommand(name, "remove containers");
    c->add_flag("-f,--force", o->force, "stop running containers first");
    c->add_flag("-a,--all", o->all, "every container of the namespace");
    c->add_option("container", o->names, "containers");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_rm(ctx, *o); }; });
    return c;
}

CLI::App* add_container_wait(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<WaitOptions>();
    CLI::App* c = parent.add_subcommand(name, "wait for containers to exit; print their status");
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_wait(ctx, *o); }; });
    return c;
}

CLI::App* add_container_logs(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<LogsOptions>();
    CLI::App* c = parent.add_subcommand(name, "print a container's output");
    c->add_flag("-f,--follow", o->follow, "keep printing until the container exits");
    c->add_flag("-t,--timestamps", o->timestamps, "show the time of each line");
    c->add_option("--tail", o->tail, "the last N lines only")->capture_default_str();
    c->add_option("container", o->name, "container")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_logs(ctx, *o); }; });
    return c;
}

CLI::App* add_system_gc(CLI::App& parent, Context& ctx, const std::string& name) {
    CLI::App* c = parent.add_subcommand(
        name, "remove what crashed commands left: mounts, task dirs, runtime state, layers");
    c->callback([&ctx] { ctx.action = [&ctx] { return run_gc(ctx); }; });
    return c;
}

void add_container_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("container", "manage containers");
    group->require_subcommand(1);
    group->fallthrough();
    for (CLI::App* parent : {&app, group}) {
        add_container_run(*parent, ctx, "run");
        add_container_create(*parent, ctx, "create");
        add_container_start(*parent, ctx, "start");
        add_container_stop(*parent, ctx, "stop");
        add_container_kill(*parent, ctx, "kill");
        add_container_rm(*parent, ctx, "rm");
        add_container_logs(*parent, ctx, "logs");
        add_container_wait(*parent, ctx, "wait");
        add_container_inspect(*parent, ctx, "inspect");
        add_container_task_commands(*parent, ctx);
    }
    add_container_ps(app, ctx, "ps");
    add_container_ps(*group, ctx, "ls")->alias("list")->alias("ps");
    add_container_cleanup(*group, ctx, "cleanup");
    CLI::App* system = app.add_subcommand("system", "manage berth itself");
    system->require_subcommand(1);
    system->fallthrough();
    add_system_gc(*system, ctx, "gc");
}

}  // namespace berth::cli
