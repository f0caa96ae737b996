// `berth volume ls|create|rm`: the named volumes `-v NAME:PATH` makes under <root>/volumes.
#include <memory>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "engine/volumes.h"

namespace berth::cli {
namespace {

// Names of the containers whose config.json binds the volume's directory.
Result<std::vector<std::string>> users_of(engine::Engine& eng, const std::string& data_dir) {
    std::vector<std::string> users;
    for (const auto& v : BERTH_TRY(eng.list())) {
        auto spec = nlohmann::json::parse(v.record.spec, nullptr, false);
        if (!spec.is_object() || !spec.contains("mounts")) continue;
        for (const auto& m : spec["mounts"]) {
            if (m.is_object() && m.value("source", "") == data_dir) {
                users.push_back(v.record.name);
                break;
            }
        }
    }
    return users;
}

struct LsOptions {
    bool quiet = false;
};

Result<int> run_ls(Context& ctx, const LsOptions& o) {
    auto names = BERTH_TRY(engine::list_volumes(engine::volumes_dir(ctx.global.root)));
    std::string out = o.quiet ? "" : "DRIVER      VOLUME NAME\n";
    for (const auto& n : names) out += (o.quiet ? "" : "local       ") + n + "\n";
    BERTH_TRY(print_out(out));
    return 0;
}

struct NamesOptions {
    std::vector<std::string> names;
    bool force = false;
};

Result<int> run_create(Context& ctx, const NamesOptions& o) {
    std::string dir = engine::volumes_dir(ctx.global.root);
    for (const auto& n : o.names) {
        if (!engine::valid_volume_name(n)) {
            return Error(EINVAL) << "invalid volume name `" << n
                                 << "`: want [a-zA-Z0-9][a-zA-Z0-9_.-]+";
        }
        BERTH_TRY(mkdir_p(engine::volume_data_dir(dir, n), 0755));
        BERTH_TRY(print_out(n + "\n"));
    }
    return 0;
}

Result<int> run_rm(Context& ctx, const NamesOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    std::string dir = engine::volumes_dir(ctx.global.root);
    for (const auto& n : o.names) {
        auto users = BERTH_TRY(users_of(eng, engine::volume_data_dir(dir, n)));
        if (!users.empty()) {
            if (!o.force) {
                return Error(EBUSY) << "volume " << n << " is being used by container "
                                    << users.front() << ": remove it first (or use --force)";
            }
            for (const auto& u : users) {
                auto v = BERTH_TRY(eng.find(u));
                BERTH_TRY(eng.remove(v, true));
            }
        }
        BERTH_TRY(engine::remove_volume(dir, n));
        BERTH_TRY(print_out(n + "\n"));
    }
    return 0;
}

}  // namespace

void add_volume_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("volume", "manage named volumes");
    group->require_subcommand(1);

    auto ls = std::make_shared<LsOptions>();
    CLI::App* c = group->add_subcommand("ls", "list volumes");
    c->alias("list");
    c->add_flag("-q,--quiet", ls->quiet, "print only the names");
    c->callback([&ctx, ls] { ctx.action = [&ctx, ls] { return run_ls(ctx, *ls); }; });

    auto cr = std::make_shared<NamesOptions>();
    c = group->add_subcommand("create", "create volumes");
    c->add_option("name", cr->names, "volume names")->required();
    c->callback([&ctx, cr] { ctx.action = [&ctx, cr] { return run_create(ctx, *cr); }; });

    auto rm = std::make_shared<NamesOptions>();
    c = group->add_subcommand("rm", "remove volumes");
    c->alias("remove");
    c->add_flag("-f,--force", rm->force, "remove the containers that use it first");
    c->add_option("name", rm->names, "volume names")->required();
    c->callback([&ctx, rm] { ctx.action = [&ctx, rm] { return run_rm(ctx, *rm); }; });
}

}  // namespace berth::cli
