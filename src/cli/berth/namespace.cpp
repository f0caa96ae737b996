// `berth namespace ls|rm`, as `ctr namespace`: containers (and their run state under
// <runroot>/<ns>) are per namespace; images and volumes are shared by all namespaces, so a
// namespace exists while it has containers or run state.
#include <dirent.h>

#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/table_output.h"
#include "engine/rootfs.h"

namespace berth::cli {
namespace {

using image::Json;

// Run root directories that are namespaces: <runroot>/<ns>/{containers,tasks}.
std::vector<std::string> namespace_dirs(const std::string& runroot) {
    std::vector<std::string> out;
    DIR* d = ::opendir(runroot.c_str());
    if (!d) return out;
    while (struct dirent* de = ::readdir(d)) {
        std::string name = de->d_name;
        if (name.starts_with(".")) continue;
        std::string dir = path_join(runroot, name);
        if (is_directory(path_join(dir, "containers")) || is_directory(path_join(dir, "tasks"))) {
            out.push_back(name);
        }
    }
    ::closedir(d);
    return out;
}

// Namespace name -> its number of containers.
Result<std::map<std::string, size_t>> namespaces(Context& ctx, engine::Engine& eng) {
    std::map<std::string, size_t> out;
    for (const auto& r : BERTH_TRY(eng.list_all_namespaces())) ++out[r.ns];
    for (const auto& ns : namespace_dirs(ctx.global.runroot)) out.emplace(ns, 0);
    return out;
}

struct LsOptions {
    bool quiet = false;
    std::string format;
};

Result<int> run_ls(Context& ctx, const LsOptions& o) {
    if (!o.format.empty() && o.format != "json" && o.format != "table") {
        return Error(EINVAL) << "--format `" << o.format << "`: want json or table";
    }
    auto eng = BERTH_TRY(open_engine(ctx));
    auto all = BERTH_TRY(namespaces(ctx, eng));
    std::string out;
    if (o.format == "json") {
        Json j = Json::array();
        for (const auto& [ns, n] : all) j.push_back(Json{{"Name", ns}, {"Containers", n}});
        out = json_text(j);
    } else if (o.quiet) {
        for (const auto& [ns, n] : all) out += ns + "\n";
    } else {
        std::vector<std::vector<std::string>> table = {{"NAME", "CONTAINERS"}};
        for (const auto& [ns, n] : all) table.push_back({ns, std::to_string(n)});
        out = aligned_table(table, 4);  // ctr's spacing
    }
    BERTH_TRY(print_out(out));
    return 0;
}

struct RmOptions {
    std::vector<std::string> names;
};

Result<int> run_rm(Context& ctx, const RmOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto all = BERTH_TRY(namespaces(ctx, eng));
    for (const auto& ns : o.names) {
        if (ns.empty() || ns.starts_with(".") || ns.find('/') != std::string::npos) {
            return Error(EINVAL) << "invalid namespace `" << ns << "`";
        }
        auto it = all.find(ns);
        if (it == all.end()) return Error(ENOENT) << "namespace `" << ns << "` not found";
        if (it->second > 0) {
            return Error(EBUSY) << "namespace `" << ns << "` is not empty: it has " << it->second
                                << " container" << (it->second == 1 ? "" : "s") << " (berth -n "
                                << ns << " rm -f --all removes them)";
        }
        engine::Paths p{ctx.global.root, ctx.global.runroot, ns};
        std::string dir = p.ns_dir();
        if (!engine::mounts_under(dir).empty()) {
            return Error(EBUSY) << "namespace `" << ns << "` still has mounts under `" << dir
                                << "`: run `berth -n " << ns << " system gc` first";
        }
        BERTH_TRY(remove_all(dir));
        BERTH_TRY(print_out(ns + "\n"));
    }
    return 0;
}

}  // namespace

void add_namespace_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("namespace", "manage namespaces (ctr namespace)");
    group->alias("namespaces")->alias("ns");
    group->require_subcommand(1);
    group->fallthrough();

    auto ls = std::make_shared<LsOptions>();
    CLI::App* c = group->add_subcommand("ls", "list the namespaces that have containers");
    c->alias("list");
    c->add_flag("-q,--quiet", ls->quiet, "print only the names");
    c->add_option("--format", ls->format, "json or table");
    c->callback([&ctx, ls] { ctx.action = [&ctx, ls] { return run_ls(ctx, *ls); }; });

    auto rm = std::make_shared<RmOptions>();
    c = group->add_subcommand("rm", "remove empty namespaces (their run state)");
    c->alias("remove");
    c->add_option("namespace", rm->names, "namespaces")->required();
    c->callback([&ctx, rm] { ctx.action = [&ctx, rm] { return run_rm(ctx, *rm); }; });
}

}  // namespace berth::cli
