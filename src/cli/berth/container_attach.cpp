// `berth attach`: the live output of a running container (and our stdin to it, when the
// container keeps one open) through its monitor's attach.sock. Ctrl-C detaches; the status is
// the container's when it exits while attached.
#include <signal.h>

#include <memory>

#include "base/scope_guard.h"

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "engine/attach.h"

namespace berth::cli {
namespace {

struct AttachOptions {
    std::string name;
    bool no_stdin = false;
};

Result<int> run_attach(Context& ctx, const AttachOptions& o) {
    // Ctrl-C from the start means detach, never death halfway through connecting.
    sigset_t mask, old;
    sigemptyset(&mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, &old);
    auto restore = make_scope_guard([&] { ::sigprocmask(SIG_SETMASK, &old, nullptr); });
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.name));
    if (!v.running()) {
        return Error(EINVAL) << "you cannot attach to a stopped container, start it first";
    }
    std::string task_dir = eng.paths().task_dir(v.record.id);
    auto sock = BERTH_TRY(engine::connect_attach(task_dir));
    auto end = BERTH_TRY(engine::attach_loop(sock, !o.no_stdin, task_dir, false));
    if (end == engine::AttachEnd::kDetached) return 0;
    // The monitor hung up: the task is over, or about to be recorded so.
    auto done = BERTH_TRY(eng.wait(v.record, 5000));
    if (done.state != "exited") return 0;
    return exit_status(done);
}

}  // namespace

CLI::App* add_container_attach(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<AttachOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "print a running container's output (Ctrl-C detaches), and send it our stdin");
    c->add_flag("--no-stdin", o->no_stdin, "do not send our stdin to the container");
    c->add_option("container", o->name, "container")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_attach(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
