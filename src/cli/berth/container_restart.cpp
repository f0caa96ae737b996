// `berth restart [-t N] CONTAINER...`: stop with the grace period (when the task runs), then
// start, as docker and podman do; a created or exited container is simply started.
#include <memory>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"

namespace berth::cli {
namespace {

struct RestartOptions {
    std::vector<std::string> names;
    int timeout = -1;
};

Result<int> run_restart(Context& ctx, const RestartOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(eng.find(name));
        std::optional<int> t;
        if (o.timeout >= 0) t = o.timeout;
        BERTH_TRY(eng.stop(v, t, nullptr));
        auto started = eng.start(v.record);
        if (!started.ok()) {
            ctx.failure_exit = engine::start_failure_exit_code(started.error().what());
            return std::move(started).error();
        }
        BERTH_TRY(print_out(name + "\n"));
    }
    return 0;
}

}  // namespace

CLI::App* add_container_restart(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<RestartOptions>();
    CLI::App* c = parent.add_subcommand(name, "restart containers (stop, then start)");
    c->add_option("-t,--time", o->timeout, "seconds before SIGKILL (default: the container's)");
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_restart(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
