// `berth task ...`: the running half of a container, as containerd splits it (`ctr task`):
// a task is the container's process and its state (RUNNING, PAUSED, STOPPED with its exit
// status, CREATED), apart from the container's configuration (`berth container info`).
#include <signal.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "base/signals.h"
#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/table_output.h"
#include "engine/exec.h"

namespace berth::cli {
namespace {

using image::Json;

// ctr's task statuses. A task between restarts has no process: STOPPED.
std::string task_status(const engine::ContainerView& v) {
    if (v.state == "created") return "CREATED";
    if (v.state == "running") {
        return engine::container_frozen(v) == true ? "PAUSED" : "RUNNING";
    }
    return "STOPPED";
}

struct TaskRow {
    std::string id, name, status;
    pid_t pid = 0;
    std::optional<int> exit_status;
    std::string exited_at;
};

TaskRow task_row(const engine::ContainerView& v) {
    TaskRow r;
    r.id = v.record.id;
    r.name = v.record.name;
    r.status = task_status(v);
    if (r.status == "RUNNING" || r.status == "PAUSED" || r.status == "CREATED") {
        r.pid = v.task->pid;
    }
    if (r.status == "STOPPED") {
        r.exit_status = exit_status(v);
        r.exited_at = v.task->finished_at;
    }
    return r;
}

// ctr's tables: 4 spaces between columns.
std::string table(const std::vector<std::vector<std::string>>& rows) {
    return aligned_table(rows, 4);
}

struct LsOptions {
    bool quiet = false, no_trunc = false;
    std::string format;
};

Result<int> run_ls(Context& ctx, const LsOptions& o) {
    if (!o.format.empty() && o.format != "json" && o.format != "table") {
        return Error(EINVAL) << "--format `" << o.format << "`: want json or table";
    }
    auto eng = BERTH_TRY(open_engine(ctx));
    std::vector<TaskRow> rows;
    for (const auto& v : BERTH_TRY(eng.list())) {
        if (v.task) rows.push_back(task_row(v));  // a container without a task has none to show
    }
    if (o.format == "json") {
        Json out = Json::array();
        for (const auto& r : rows) {
            out.push_back(Json{{"ID", r.id},
                               {"Name", r.name},
                               {"Pid", r.pid},
                               {"Status", r.status},
                               {"ExitStatus", r.exit_status ? Json(*r.exit_status) : Json()},
                               {"ExitedAt", r.exited_at}});
        }
        BERTH_TRY(print_out(json_text(out)));
        return 0;
    }
    auto shown_id = [&](const std::string& id) { return o.no_trunc ? id : id.substr(0, 12); };
    if (o.quiet) {
        std::vector<std::string> ids;
        for (const auto& r : rows) ids.push_back(shown_id(r.id));
        BERTH_TRY(print_out(lines(ids)));
        return 0;
    }
    std::vector<std::vector<std::string>> t = {{"TASK", "NAME", "PID", "STATUS", "EXIT"}};
    for (const auto& r : rows) {
        t.push_back({shown_id(r.id), r.name, std::to_string(r.pid), r.status,
                     r.exit_status ? std::to_string(*r.exit_status) : ""});
    }
    BERTH_TRY(print_out(table(t)));
    return 0;
}

struct OneOptions {
    std::string name;
};

Result<int> run_ps(Context& ctx, const OneOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.name));
    auto procs = BERTH_TRY(engine::container_processes(eng.paths(), v));
    std::vector<std::vector<std::string>> t = {{"PID", "COMMAND"}};
    for (const auto& p : procs) t.push_back({std::to_string(p.pid), p.command});
    BERTH_TRY(print_out(table(t)));
    return 0;
}

struct KillOptions {
    std::vector<std::string> names;
    std::string signal = "SIGTERM";  // ctr's default
    bool all = false;
};

Result<int> run_kill(Context& ctx, const KillOptions& o) {
    auto sig = signal_from_string(o.signal);
    if (!sig || *sig == 0) return Error(EINVAL) << "invalid signal `" << o.signal << "`";
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(eng.find(name));
        if (o.all) {
            // Every process of the task's cgroup, as `ctr task kill --all`.
            for (const auto& p : BERTH_TRY(engine::container_processes(eng.paths(), v))) {
                if (::kill(p.pid, *sig) != 0 && errno != ESRCH) {
                    return ErrnoError() << "kill " << p.pid << " in " << name;
                }
            }
        } else {
            BERTH_TRY(eng.kill(v, *sig));
        }
    }
    return 0;
}

struct NamesOptions {
    std::vector<std::string> names;
    bool flag = false;  // delete: --force; start: --detach
};

Result<int> run_pause(Context& ctx, const NamesOptions& o, bool pause) {
    BERTH_TRY(pause_containers(ctx, o.names, pause, false));  // ctr prints nothing
    return 0;
}

Result<int> run_start(Context& ctx, const NamesOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.names.front()));
    if (v.running() || (v.state == "created" && v.task)) {
        return Error(EEXIST) << "task " << v.record.name << " is already " << v.state;
    }
    auto started = eng.start(v.record);
    if (!started.ok()) {
        ctx.failure_exit = engine::start_failure_exit_code(started.error().what());
        return std::move(started).error();
    }
    if (o.flag) return 0;  // --detach
    // Attached as ctr is: the task's output until it exits, signals passed on, its status.
    auto done = BERTH_TRY(follow_log(eng, v.record, false, true));
    return exit_status(done);
}

Result<int> run_delete(Context& ctx, const NamesOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(eng.find(name));
        BERTH_TRY(eng.delete_task(v, o.flag));
        BERTH_TRY(print_out(name + "\n"));
    }
    return 0;
}

}  // namespace

void add_task_commands(CLI::App& app, Context& ctx) {
    CLI::App* group =
        app.add_subcommand("task", "manage tasks: the running half of containers (ctr task)");
    group->alias("tasks");
    group->require_subcommand(1);
    group->fallthrough();

    auto ls = std::make_shared<LsOptions>();
    CLI::App* c = group->add_subcommand("ls", "list tasks: pid, status, exit status");
    c->alias("list");
    c->add_flag("-q,--quiet", ls->quiet, "print only the IDs");
    c->add_flag("--no-trunc", ls->no_trunc, "do not truncate IDs");
    c->add_option("--format", ls->format, "json or table");
    c->callback([&ctx, ls] { ctx.action = [&ctx, ls] { return run_ls(ctx, *ls); }; });

    auto ps = std::make_shared<OneOptions>();
    c = group->add_subcommand("ps", "list the processes of a task");
    c->add_option("container", ps->name, "container")->required();
    c->callback([&ctx, ps] { ctx.action = [&ctx, ps] { return run_ps(ctx, *ps); }; });

    auto kill = std::make_shared<KillOptions>();
    c = group->add_subcommand("kill", "signal a task's init (or every process with --all)");
    c->add_option("-s,--signal", kill->signal, "signal name or number")->capture_default_str();
    c->add_flag("-a,--all", kill->all, "every process of the task");
    c->add_option("container", kill->names, "containers")->required();
    c->callback([&ctx, kill] { ctx.action = [&ctx, kill] { return run_kill(ctx, *kill); }; });

    for (bool pause : {true, false}) {
        auto o = std::make_shared<NamesOptions>();
        c = group->add_subcommand(pause ? "pause" : "resume",
                                  pause ? "freeze a task's processes" : "thaw a paused task");
        c->add_option("container", o->names, "containers")->required();
        c->callback([&ctx, o, pause] {
            ctx.action = [&ctx, o, pause] { return run_pause(ctx, *o, pause); };
        });
    }

    auto start = std::make_shared<NamesOptions>();
    c = group->add_subcommand("start", "start a container's task; wait for it unless -d");
    c->add_flag("-d,--detach", start->flag, "do not wait for the task");
    c->add_option("container", start->names, "container")->required()->expected(1);
    c->callback([&ctx, start] { ctx.action = [&ctx, start] { return run_start(ctx, *start); }; });

    auto del = std::make_shared<NamesOptions>();
    c = group->add_subcommand("delete", "delete stopped tasks (the container stays, created)");
    c->alias("rm");
    c->add_flag("-f,--force", del->flag, "kill a running task first");
    c->add_option("container", del->names, "containers")->required();
    c->callback([&ctx, del] { ctx.action = [&ctx, del] { return run_delete(ctx, *del); }; });
}

}  // namespace berth::cli
