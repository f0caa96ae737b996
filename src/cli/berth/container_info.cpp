// `berth container info`: the configuration half of a container, as containerd splits it
// (`ctr container info`): what create recorded, and no task state (that is `berth task ls`).
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/table_output.h"

namespace berth::cli {
namespace {

using image::Json;

Json info_json(const engine::ContainerRecord& r) {
    Json spec = Json::parse(r.spec, nullptr, false);
    return Json{
        {"ID", r.id},
        {"Name", r.name},
        {"Namespace", r.ns},
        {"Image", r.image_name},
        {"ImageID", r.image_id},
        {"Command", container_command(r)},
        {"CreatedAt", r.created},
        {"Labels", r.labels},
        {"Runtime", {{"Name", r.runtime}}},
        {"RestartPolicy", r.restart_policy},
        {"StopSignal", r.stop_signal},
        {"StopTimeout", r.stop_timeout},
        {"Network", r.network},
        {"AutoRemove", r.auto_remove},
        {"SnapshotKeys", r.chain_ids},
        {"Spec", spec.is_discarded() ? Json() : spec},
    };
}

struct InfoOptions {
    std::vector<std::string> names;
    std::string format;
};

Result<int> run_info(Context& ctx, const InfoOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    Json out = Json::array();
    for (const auto& n : o.names) out.push_back(info_json(BERTH_TRY(eng.find(n)).record));
    BERTH_TRY(print_out(BERTH_TRY(inspect_output(o.format, out))));
    return 0;
}

}  // namespace

CLI::App* add_container_info(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<InfoOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "a container's configuration without its task state (ctr container info)");
    c->add_option("-f,--format", o->format, "json (default) or a Go template ({{.Image}})");
    c->add_option("container", o->names, "containers")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_info(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
