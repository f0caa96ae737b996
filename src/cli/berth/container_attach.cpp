// `berth attach`: the live output of a running container and, when it keeps one open, our
// stdin to its stdin (a pty's: our terminal goes raw and passes its window size on). Ctrl-C
// detaches (and so do the detach keys, ctrl-p ctrl-q, on a pty); the status is the container's
// when it exits while attached.
#include <signal.h>

#include <memory>

#include "base/scope_guard.h"

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/container_interactive.h"

namespace berth::cli {
namespace {

struct AttachOptions {
    std::string name;
    bool no_stdin = false;
    std::string detach_keys;
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
    InteractiveFlags flags;
    flags.interactive = !o.no_stdin;
    flags.detach_keys = o.detach_keys;
    flags.proxy_signals = false;
    flags.close_stdin_at_eof = false;
    auto done = BERTH_TRY(attach_foreground(eng, v.record, flags, nullptr));
    if (!done || done->state != "exited") return 0;
    return exit_status(*done);
}

}  // namespace

CLI::App* add_container_attach(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<AttachOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "print a running container's output (Ctrl-C detaches), and send it our stdin");
    c->add_flag("--no-stdin", o->no_stdin, "do not send our stdin to the container");
    add_detach_keys_flag(c, o->detach_keys);
    c->add_option("container", o->name, "container")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_attach(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
