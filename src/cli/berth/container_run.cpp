// `berth run`, `create` and `start`, with docker's and podman's flags and exit statuses: 125
// for berth's own errors, 126 when the command cannot be executed, 127 when it is not found,
// otherwise (foreground run) the container's.
#include <memory>

#include "base/strings.h"
#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/container_interactive.h"
#include "cli/berth/resource_flags.h"
#include "engine/container_lock.h"
#include "engine/volumes.h"

namespace berth::cli {
namespace {

struct RunOptions {
    engine::CreateOptions create;
    std::string image;
    std::vector<std::string> labels;
    std::string entrypoint;
    bool entrypoint_set = false;
    std::string user;
    bool detach = false;
    InteractiveFlags stdio;  // -i (copied from create.interactive), --detach-keys
};

void add_create_flags(CLI::App* c, RunOptions& o) {
    auto& cr = o.create;
    c->add_flag("-i,--interactive", cr.interactive, "keep stdin open (and attach ours)");
    c->add_flag("-t,--tty", cr.tty, "allocate a pseudo-terminal");
    c->add_option("--name", cr.name, "the container's name");
    c->add_option("-e,--env", cr.env, "set an environment variable (K=V, or K for berth's)")
        ->allow_extra_args(false);
    c->add_option("--env-file", cr.env_files, "read K=V lines from a file")
        ->allow_extra_args(false);
    c->add_option("-w,--workdir", cr.workdir, "working directory inside the container");
    c->add_option("-u,--user", o.user, "user[:group] (names from the image's /etc/passwd)");
    c->add_option("--entrypoint", o.entrypoint, "override the image's entrypoint");
    c->add_option("-l,--label", o.labels, "set a label (K=V)")->allow_extra_args(false);
    c->add_option("--hostname", cr.hostname, "the container's host name");
    // As docker and rootful podman: the default network (`berth`, bridge berth0, written on
    // first use) unless told otherwise. The engine's own default stays `none`.
    cr.network = "bridge";
    c->add_option("--network,--net", cr.network,
                  "bridge (the default network `berth`), none (lo only), host, NAME[,NAME] or "
                  "container:NAME-OR-ID")
        ->capture_default_str();
    c->add_option("--ip", cr.ip, "the container's IPv4 or IPv6 address on its first network");
    c->add_option("--mac-address", cr.mac_address, "the container's MAC on its first network");
    c->add_option("--add-host", cr.add_hosts, "add HOST:IP to /etc/hosts")->allow_extra_args(false);
    c->add_option("--dns", cr.dns, "a nameserver for /etc/resolv.conf")->allow_extra_args(false);
    c->add_option("--dns-search", cr.dns_search, "a search domain for /etc/resolv.conf")
        ->allow_extra_args(false);
    c->add_option("--dns-option", cr.dns_options, "an option for /etc/resolv.conf")
        ->allow_extra_args(false);
    c->add_option("-p,--publish", cr.publish, "publish [hostIP:][hostPort:]ctrPort[/proto]")
        ->allow_extra_args(false);
    c->add_flag("-P,--publish-all", cr.publish_all,
                "publish the image's exposed ports on random host ports");
    c->add_flag("--read-only", cr.read_only, "mount the root file system read-only");
    c->add_option("--restart", cr.restart, "no, on-failure[:N], always, unless-stopped")
        ->capture_default_str();
    c->add_option("--stop-signal", cr.stop_signal, "signal to stop the container (SIGTERM)");
    c->add_option("--stop-timeout", cr.stop_timeout, "seconds before SIGKILL on stop")
        ->capture_default_str();
    c->add_option("--runtime", cr.runtime,
                  "OCI runtime: berth-runtime (default), runc, crun, PATH");
    c->add_flag("--rm", cr.auto_remove, "remove the container when it exits");
    // Security, mounts and resources.
    c->add_option("--cap-add", cr.cap_add, "add a capability (CAP_X, X or ALL)")
        ->allow_extra_args(false);
    c->add_option("--cap-drop", cr.cap_drop, "drop a capability (CAP_X, X or ALL)")
        ->allow_extra_args(false);
    c->add_flag("--privileged", cr.privileged,
                "every capability and host device, no seccomp, no masked paths");
    c->add_option("--security-opt", cr.security_opts,
                  "no-new-privileges, seccomp=unconfined or seccomp=PROFILE.json")
        ->allow_extra_args(false);
    c->add_option("-v,--volume", cr.volumes, "bind HOST-PATH:CTR-PATH[:ro] or NAME:CTR-PATH[:ro]")
        ->allow_extra_args(false);
    c->add_option("--tmpfs", cr.tmpfs, "mount a tmpfs at PATH[:OPTIONS]")->allow_extra_args(false);
    c->add_flag("--init", cr.init, "run berth-init as PID 1 (forwards signals, reaps zombies)");
    add_resource_flags(c, cr, true);
    c->add_option("image", o.image, "IMAGE [COMMAND [ARG...]]")->required();
    // Everything after the image belongs to the container's command.
    c->prefix_command();
    c->allow_extras();
    c->fallthrough(false);
}

Result<void> finish_options(RunOptions& o, const CLI::App* c) {
    o.create.image = o.image;
    o.create.command = c->remaining();
    // CLI11 keeps a "--" that ended the options.
    if (!o.create.command.empty() && o.create.command.front() == "--") {
        o.create.command.erase(o.create.command.begin());
    }
    if (c->count("--entrypoint")) o.create.entrypoint = o.entrypoint;
    if (c->count("--user")) o.create.user = o.user;
    for (const auto& l : o.labels) {
        size_t eq = l.find('=');
        if (eq == 0) return Error(EINVAL) << "invalid label `" << l << "`";
        if (eq == std::string::npos) {
            o.create.labels[l] = "";
        } else {
            o.create.labels[l.substr(0, eq)] = l.substr(eq + 1);
        }
    }
    return {};
}

Result<engine::ContainerRecord> create_container(engine::Engine& eng, const RunOptions& o) {
    FoundImage f = BERTH_TRY(find_image(eng.images(), o.create.image, image::host_platform()));
    std::string name = f.record ? f.record->name : o.create.image;
    engine::CreateOptions create = o.create;
    create.volumes_dir = engine::volumes_dir(eng.paths().root);
    return eng.create(create, f.resolved, name);
}

// Starts the task; a failed start sets the exit status docker gives it and, for --rm,
// removes the container.
Result<void> start_container(Context& ctx, engine::Engine& eng, const engine::ContainerRecord& r,
                             const engine::StartAttach& attach = {}) {
    auto started = eng.start(r, attach);
    if (started.ok()) return {};
    std::string msg = started.error().what();
    ctx.failure_exit = engine::start_failure_exit_code(msg);
    if (r.auto_remove) {
        if (auto v = eng.find(r.id); v.ok()) (void)eng.remove(*v, true);
    }
    return std::move(started).error();
}

Result<int> run_run(Context& ctx, RunOptions& o, const CLI::App* c) {
    BERTH_TRY(finish_options(o, c));
    auto eng = BERTH_TRY(open_engine(ctx));
    auto r = BERTH_TRY(create_container(eng, o));
    if (o.detach) {
        BERTH_TRY(start_container(ctx, eng, r));
        BERTH_TRY(print_out(r.id + "\n"));
        return 0;
    }
    // --rm in the foreground: the exit command leaves the removal to us (exit status first).
    engine::RemovalHold hold;
    if (r.auto_remove) hold = BERTH_TRY(engine::hold_removal(eng.paths(), r.id));
    // Our stdio is the container's from its first byte (container_interactive.h), through a
    // socket the monitor is given at start: no following of the log file (closing an inotify
    // watch waits for a grace period).
    o.stdio.interactive = o.create.interactive;
    auto attached = BERTH_TRY(attach_foreground(eng, r, o.stdio, [&](const engine::StartAttach& a) {
        return start_container(ctx, eng, r, a);
    }));
    if (!attached) return 0;  // detached: it runs on (--rm: its exit command removes it)
    engine::ContainerView& v = *attached;
    int code = exit_status(v);
    if (r.auto_remove) BERTH_TRY(eng.remove(v, true));
    if (v.task && !v.task->exit_code) {
        // No status to pass on: say why.
        ctx.failure_exit = code;
        return Error(EIO) << "container " << r.name << ": " << v.task->exit_reason << ": "
                          << v.task->error;
    }
    return code;
}

Result<int> run_create(Context& ctx, RunOptions& o, const CLI::App* c) {
    BERTH_TRY(finish_options(o, c));
    auto eng = BERTH_TRY(open_engine(ctx));
    auto r = BERTH_TRY(create_container(eng, o));
    BERTH_TRY(print_out(r.id + "\n"));
    return 0;
}

struct StartOptions {
    std::vector<std::string> names;
    bool attach = false;
    InteractiveFlags stdio;  // -i (docker: attaches too), --detach-keys
};

Result<int> run_start(Context& ctx, const StartOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    int code = 0;
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(eng.find(name));
        const bool attach = o.attach || o.stdio.interactive;
        engine::RemovalHold hold;  // as run --rm: the status is read before the exit command
        if (attach && v.record.auto_remove) {
            hold = BERTH_TRY(engine::hold_removal(eng.paths(), v.record.id));
        }
        if (attach && (o.stdio.interactive || container_has_tty(v.record) ||
                       container_keeps_stdin(v.record))) {
            StartFn start;
            if (!v.running()) {
                start = [&](const engine::StartAttach& a) {
                    return start_container(ctx, eng, v.record, a);
                };
            }
            auto done = BERTH_TRY(attach_foreground(eng, v.record, o.stdio, start));
            code = done ? exit_status(*done) : 0;
            continue;
        }
        if (!v.running()) BERTH_TRY(start_container(ctx, eng, v.record));
        if (o.attach) {
            auto done = BERTH_TRY(follow_log(eng, v.record, false, true));
            code = exit_status(done);
        } else {
            BERTH_TRY(print_out(name + "\n"));
        }
    }
    return code;
}

}  // namespace

CLI::App* add_container_run(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<RunOptions>();
    CLI::App* c = parent.add_subcommand(name, "run a command in a new container");
    c->add_flag("-d,--detach", o->detach, "run in the background and print the container ID");
    add_detach_keys_flag(c, o->stdio.detach_keys);
    add_create_flags(c, *o);
    c->callback([&ctx, o, c] { ctx.action = [&ctx, o, c] { return run_run(ctx, *o, c); }; });
    return c;
}

CLI::App* add_container_create(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<RunOptions>();
    CLI::App* c = parent.add_subcommand(name, "create a container without starting it");
    add_create_flags(c, *o);
    c->callback([&ctx, o, c] { ctx.action = [&ctx, o, c] { return run_create(ctx, *o, c); }; });
    return c;
}

CLI::App* add_container_start(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<StartOptions>();
    CLI::App* c = parent.add_subcommand(name, "start one or more containers");
    c->add_flag("-a,--attach", o->attach, "print the container's output until it exits");
    c->add_flag("-i,--interactive", o->stdio.interactive, "attach our stdin (and the output)");
    add_detach_keys_flag(c, o->stdio.detach_keys);
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_start(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
