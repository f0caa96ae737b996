// `berth container cleanup [--rm] ID`: not for users (hidden from help). berth-monitor runs it
// once a --rm container's task is over (its --exit-command, as conmon runs `podman container
// cleanup`), detached and with stdio on /dev/null: it removes the container unless a
// foreground `run --rm` will, `rm` already did, or the container was started again.
#include <memory>

#include "cli/berth/container_common.h"

namespace berth::cli {
namespace {

struct CleanupOptions {
    std::string id;
    bool remove = false;
};

Result<int> run_cleanup(Context& ctx, const CleanupOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    BERTH_TRY(eng.cleanup_exited(o.id, o.remove));
    return 0;
}

}  // namespace

CLI::App* add_container_cleanup(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<CleanupOptions>();
    CLI::App* c = parent.add_subcommand(name, "clean up after a task's exit (berth-monitor)");
    c->group("");  // hidden
    c->add_flag("--rm", o->remove, "remove the container");
    c->add_option("container", o->id, "the container's full id")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_cleanup(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
