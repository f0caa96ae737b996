// `berth ps` and `berth container inspect`, in podman's table and JSON shapes (with berth's
// namespace and the task's exit reason added).
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/table_output.h"
#include "engine/resources.h"
#include "engine/stats.h"

namespace berth::cli {
namespace {

using image::Json;

int64_t unix_time(const std::string& t) {
    return t.empty() ? 0 : parse_rfc3339(t).value_or(0);
}

Json ps_json(const engine::ContainerView& v) {
    const auto& r = v.record;
    Json labels = r.labels.empty() ? Json(nullptr) : Json(r.labels);
    return Json{
        {"Id", r.id},
        {"Names", Json::array({r.name})},
        {"Image", r.image_name},
        {"ImageID", r.image_id},
        {"Command", container_command(r)},
        {"Created", unix_time(r.created)},
        {"CreatedAt", r.created},
        {"State", v.state},
        {"Status", status_text(v)},
        {"Exited", v.state == "exited"},
        {"ExitCode", v.state == "exited" ? exit_status(v) : 0},
        {"ExitedAt", v.task ? unix_time(v.task->finished_at) : 0},
        {"ExitReason", v.task ? v.task->exit_reason : ""},
        {"OOMKilled", v.task && v.task->oom_killed},
        {"StartedAt", v.task ? unix_time(v.task->started_at) : 0},
        {"Pid", v.task && v.running() ? v.task->pid : 0},
        {"Restarts", v.task ? v.task->restart_count : 0},
        {"Labels", labels},
        {"AutoRemove", r.auto_remove},
        {"Namespace", r.ns},
    };
}

std::string quote_command(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
}

struct PsOptions {
    bool all = false, quiet = false, no_trunc = false;
    std::string format;
};

Result<int> run_ps(Context& ctx, const PsOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto views = BERTH_TRY(eng.list());
    std::vector<engine::ContainerView> shown;
    for (auto& v : views) {
        if (o.all || v.running()) shown.push_back(std::move(v));
    }
    if (is_json_format(o.format)) {
        Json out = Json::array();
        for (const auto& v : shown) out.push_back(ps_json(v));
        BERTH_TRY(print_out(json_text(out)));
        return 0;
    }
    auto shown_id = [&](const std::string& id) { return o.no_trunc ? id : id.substr(0, 12); };
    if (o.quiet) {
        std::vector<std::string> ids;
        for (const auto& v : shown) ids.push_back(shown_id(v.record.id));
        BERTH_TRY(print_out(lines(ids)));
        return 0;
    }
    if (is_template_format(o.format)) {
        Json objs = Json::array();
        for (const auto& v : shown) {
            Json obj = ps_json(v);
            obj["ID"] = shown_id(v.record.id);
            obj["Names"] = v.record.name;
            obj["Command"] = quote_command(container_command(v.record));
            objs.push_back(std::move(obj));
        }
        BERTH_TRY(print_out(BERTH_TRY(render_lines(o.format, objs))));
        return 0;
    }
    std::vector<std::vector<std::string>> table = {
        {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
    for (const auto& v : shown) {
        std::string cmd = quote_command(container_command(v.record));
        if (!o.no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 17) + "...";
        table.push_back({shown_id(v.record.id), v.record.image_name, cmd,
                         human_ago(v.record.created), status_text(v), "", v.record.name});
    }
    BERTH_TRY(print_out(aligned_table(table)));
    return 0;
}

Json inspect_json(const engine::Engine& eng, const engine::ContainerView& v) {
    const auto& r = v.record;
    Json spec = Json::parse(r.spec, nullptr, false);
    Json process = spec.is_object() ? spec.value("process", Json::object()) : Json::object();
    auto args = container_command(r);
    const engine::TaskInfo* t = v.task ? &*v.task : nullptr;
    Json state = {
        {"Status", v.state},
        {"Running", v.state == "running"},
        {"Paused", false},
        {"Restarting", v.state == "restarting"},
        {"OOMKilled", t && t->oom_killed},
        {"Dead", false},
        {"Pid", t && v.running() ? t->pid : 0},
        {"ExitCode", v.state == "exited" ? exit_status(v) : 0},
        {"ExitReason", t ? t->exit_reason : ""},
        {"Error", t ? t->error : ""},
        {"StartedAt", t ? t->started_at : ""},
        {"FinishedAt", t ? t->finished_at : ""},
        {"MonitorPid", t ? t->monitor_pid : 0},
    };
    std::string policy = r.restart_policy;
    int retries = 0;
    if (policy.starts_with("on-failure:")) {
        retries = std::atoi(policy.c_str() + 11);
        policy = "on-failure";
    }
    Json user = process.value("user", Json::object());
    Json config = {
        {"Hostname", spec.value("hostname", "")},
        {"Env", process.value("env", Json::array())},
        {"Cmd", args},
        {"WorkingDir", process.value("cwd", "/")},
        {"User", std::to_string(user.value("uid", 0)) + ":" + std::to_string(user.value("gid", 0))},
        {"Labels", r.labels},
        {"StopSignal", r.stop_signal},
        {"StopTimeout", r.stop_timeout},
        {"Image", r.image_name},
    };
    const auto& p = eng.paths();
    // The resource flags as configured, and (running) the limits as the cgroup files hold them.
    Json resources = engine::host_config_resources(r.spec);
    if (v.running()) {
        resources["CgroupLimits"] = engine::read_cgroup_limits(engine::cgroups_path_of(r.spec));
    }
    Json out = Json{
        {"Id", r.id},
        {"Created", r.created},
        {"Path", args.empty() ? "" : args.front()},
        {"Args", args.size() > 1 ? Json(std::vector<std::string>(args.begin() + 1, args.end()))
                                 : Json::array()},
        {"State", state},
        {"Image", r.image_id},
        {"ImageName", r.image_name},
        {"Name", r.name},
        {"Namespace", r.ns},
        {"RestartCount", t ? t->restart_count : 0},
        {"OCIRuntime", r.runtime},
        {"LogPath", r.log_path},
        {"Rootfs", p.rootfs_dir(r.id)},
        {"UpperDir", p.upper_dir(r.id)},
        {"OCIConfigPath", p.bundle_dir(r.id) + "/config.json"},
        {"TaskDir", p.task_dir(r.id)},
        {"Config", config},
        {"HostConfig",
         {{"RestartPolicy", {{"Name", policy}, {"MaximumRetryCount", retries}}},
          {"NetworkMode", r.network},
          {"AutoRemove", r.auto_remove},
          {"ReadonlyRootfs", spec.is_object() && spec["root"].value("readonly", false)},
          {"CgroupParent", "/berth"},
          {"Runtime", r.runtime}}},
        {"Cgroup", t ? t->cgroup : ""},
    };
    out["HostConfig"].update(resources);
    return out;
}

struct InspectOptions {
    std::vector<std::string> names;
    std::string format;
};

Result<int> run_inspect(Context& ctx, const InspectOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    Json out = Json::array();
    for (const auto& n : o.names) {
        auto v = eng.find(n);
        if (!v.ok()) {
            if (v.error().errno_value() == ENOENT) ctx.failure_exit = 125;
            return std::move(v).error();
        }
        out.push_back(inspect_json(eng, *v));
    }
    BERTH_TRY(print_out(BERTH_TRY(inspect_output(o.format, out))));
    return 0;
}

}  // namespace

CLI::App* add_container_ps(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<PsOptions>();
    CLI::App* c = parent.add_subcommand(name, "list containers");
    c->add_flag("-a,--all", o->all, "all containers, not only running ones");
    c->add_flag("-q,--quiet", o->quiet, "print only the IDs");
    c->add_flag("--no-trunc", o->no_trunc, "do not truncate IDs and commands");
    c->add_option("--format", o->format, "json, table or a Go template ({{.Names}})");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_ps(ctx, *o); }; });
    return c;
}

CLI::App* add_container_inspect(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<InspectOptions>();
    CLI::App* c = parent.add_subcommand(name, "display the configuration of containers");
    c->add_option("-f,--format", o->format, "json (default) or a Go template ({{.State.Pid}})");
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_inspect(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
