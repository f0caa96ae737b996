// `berth update [flags] CONTAINER...`: docker's update of the cgroup limits, live through the
// runtime when the container runs, and kept for its next start either way.
#include <memory>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/resource_flags.h"

namespace berth::cli {
namespace {

struct UpdateOptions {
    engine::ResourceFlags flags;
    std::vector<std::string> names;
};

Result<int> run_update(Context& ctx, const UpdateOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    for (const auto& name : o.names) {
        auto v = BERTH_TRY(eng.find(name));
        BERTH_TRY(eng.update(v, o.flags));
        BERTH_TRY(print_out(name + "\n"));
    }
    return 0;
}

}  // namespace

CLI::App* add_container_update(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<UpdateOptions>();
    CLI::App* c = parent.add_subcommand(name, "change the resource limits of containers");
    add_resource_flags(c, o->flags, false);
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_update(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
