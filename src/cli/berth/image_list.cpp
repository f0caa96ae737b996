// `berth image ls` and `berth image inspect`, in podman's table and JSON shapes.
#include <algorithm>
#include <map>
#include <memory>

#include "cli/berth/commands.h"
#include "cli/berth/table_output.h"

namespace berth::cli {
namespace {

using image::Json;

// podman's `image inspect` object.
Json inspect_json(const image::ResolvedImage& img, const std::vector<std::string>& names) {
    const image::ImageConfig& c = img.config;
    Json config = Json::object();
    if (!c.user.empty()) config["User"] = c.user;
    Json ports = Json::object();
    for (const auto& p : c.exposed_ports) ports[p] = Json::object();
    if (!ports.empty()) config["ExposedPorts"] = ports;
    if (!c.env.empty()) config["Env"] = c.env;
    if (!c.entrypoint.empty()) config["Entrypoint"] = c.entrypoint;
    if (!c.cmd.empty()) config["Cmd"] = c.cmd;
    Json volumes = Json::object();
    for (const auto& v : c.volumes) volumes[v] = Json::object();
    if (!volumes.empty()) config["Volumes"] = volumes;
    if (!c.working_dir.empty()) config["WorkingDir"] = c.working_dir;
    if (!c.labels.empty()) config["Labels"] = c.labels;
    if (!c.stop_signal.empty()) config["StopSignal"] = c.stop_signal;

    Json repo_digests = Json::array();
    for (const auto& n : names) {
        std::string repo = split_repo_tag(n).first + "@" + img.manifest_desc.digest.str();
        if (std::find(repo_digests.begin(), repo_digests.end(), repo) == repo_digests.end()) {
            repo_digests.push_back(repo);
        }
    }
    Json layers = Json::array();
    for (const auto& d : c.diff_ids) layers.push_back(d.str());
    Json out = {
        {"Id", img.id().hex},
        {"Digest", img.manifest_desc.digest.str()},
        {"RepoTags", names},
        {"RepoDigests", repo_digests},
        {"Created", c.created},
        {"Architecture", c.architecture},
        {"Os", c.os},
        {"Config", config},
        {"Version", ""},
        {"Author", ""},
        {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
        {"Size", image_size(img)},
        {"VirtualSize", image_size(img)},
        {"Labels", c.labels.empty() ? Json(nullptr) : Json(c.labels)},
        {"ManifestType", img.manifest_desc.media_type},
        {"NamesHistory", Json::array()},
    };
    if (!c.variant.empty()) out["Variant"] = c.variant;
    if (c.raw.is_object()) {
        if (auto it = c.raw.find("author"); it != c.raw.end() && it->is_string()) {
            out["Author"] = *it;
        }
        if (auto it = c.raw.find("history"); it != c.raw.end() && it->is_array()) {
            out["History"] = *it;
        }
    }
    return out;
}

struct LsOptions {
    std::string format;
    bool quiet = false, no_trunc = false, digests = false, all = false;
};

Result<int> run_ls(Context& ctx, const LsOptions& o) {
    auto store = BERTH_TRY(ctx.open_images());
    image::Platform host = image::host_platform();
    struct Row {
        std::string name;
        image::ResolvedImage img;
        std::string created_at;
    };
    std::vector<Row> rows;
    for (auto& rec : BERTH_TRY(store.list())) {
        auto img = store.resolve(rec.name, host);
        if (!img.ok()) continue;  // another platform's image, or an incomplete one
        rows.push_back(Row{rec.name, std::move(*img), rec.created});
    }
    // Newest first, as podman lists them.
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return parse_rfc3339(a.img.config.created).value_or(0) >
               parse_rfc3339(b.img.config.created).value_or(0);
    });

    if (is_json_format(o.format)) {
        // One object per image, its names together, as podman's JSON.
        std::vector<std::string> order;
        std::map<std::string, std::pair<const Row*, std::vector<std::string>>> by_id;
        for (const auto& r : rows) {
            auto [it, inserted] = by_id.try_emplace(r.img.id().hex, &r, std::vector<std::string>{});
            if (inserted) order.push_back(r.img.id().hex);
            it->second.second.push_back(r.name);
        }
        Json out = Json::array();
        for (const auto& id : order) {
            const auto& [row, names] = by_id[id];
            const auto& c = row->img.config;
            Json repo_digests = Json::array();
            for (const auto& n : names) {
                repo_digests.push_back(split_repo_tag(n).first + "@" +
                                       row->img.manifest_desc.digest.str());
            }
            out.push_back({{"Id", id},
                           {"ParentId", ""},
                           {"RepoTags", Json(nullptr)},
                           {"RepoDigests", repo_digests},
                           {"Size", image_size(row->img)},
                           {"SharedSize", 0},
                           {"VirtualSize", image_size(row->img)},
                           {"Labels", c.labels.empty() ? Json(nullptr) : Json(c.labels)},
                           {"Containers", 0},
                           {"Names", names},
                           {"Digest", row->img.manifest_desc.digest.str()},
                           {"Created", parse_rfc3339(c.created).value_or(0)},
                           {"CreatedAt", c.created}});
        }
        BERTH_TRY(print_out(json_text(out)));
        return 0;
    }
    if (o.quiet) {
        std::vector<std::string> seen;
        for (const auto& r : rows) {
            std::string id = o.no_trunc ? r.img.id().str() : r.img.id().hex.substr(0, 12);
            if (std::find(seen.begin(), seen.end(), id) == seen.end()) seen.push_back(id);
        }
        BERTH_TRY(print_out(lines(seen)));
        return 0;
    }
    if (is_template_format(o.format)) {
        Json objs = Json::array();
        for (const auto& r : rows) {
            auto [repo, tag] = split_repo_tag(r.name);
            Json obj = inspect_json(r.img, {r.name});
            obj["Repository"] = repo;
            obj["Tag"] = tag;
            obj["ID"] = o.no_trunc ? r.img.id().str() : r.img.id().hex.substr(0, 12);
            obj["CreatedSince"] = human_ago(r.img.config.created);
            obj["CreatedAt"] = r.img.config.created;
            obj["Size"] = human_size(static_cast<double>(image_size(r.img)));
            objs.push_back(std::move(obj));
        }
        BERTH_TRY(print_out(BERTH_TRY(render_lines(o.format, objs))));
        return 0;
    }
    // The table, columns padded like Go's tabwriter (min width, 2 spaces of padding).
    std::vector<std::vector<std::string>> table;
    std::vector<std::string> header = {"REPOSITORY", "TAG"};
    if (o.digests) header.push_back("DIGEST");
    for (const char* h : {"IMAGE ID", "CREATED", "SIZE"}) header.push_back(h);
    table.push_back(header);
    for (const auto& r : rows) {
        auto [repo, tag] = split_repo_tag(r.name);
        std::vector<std::string> row = {repo, tag};
        if (o.digests) row.push_back(r.img.manifest_desc.digest.str());
        row.push_back(o.no_trunc ? r.img.id().str() : r.img.id().hex.substr(0, 12));
        row.push_back(human_ago(r.img.config.created));
        row.push_back(human_size(static_cast<double>(image_size(r.img))));
        table.push_back(std::move(row));
    }
    BERTH_TRY(print_out(aligned_table(table)));
    return 0;
}

struct InspectOptions {
    std::string format = "json";
    std::vector<std::string> names;
    std::string platform;
};

Result<int> run_inspect(Context& ctx, const InspectOptions& o) {
    auto store = BERTH_TRY(ctx.open_images());
    image::Platform p = BERTH_TRY(parse_platform(o.platform, "", "", ""));
    Json out = Json::array();
    for (const auto& name : o.names) {
        FoundImage f = BERTH_TRY(find_image(store, name, p));
        auto names = BERTH_TRY(store.names_of(f.resolved, p));
        out.push_back(inspect_json(f.resolved, names));
    }
    BERTH_TRY(print_out(BERTH_TRY(inspect_output(o.format, out))));
    return 0;
}

}  // namespace

CLI::App* add_image_ls(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<LsOptions>();
    CLI::App* c = parent.add_subcommand(name, "list images in local storage");
    c->add_option("--format", o->format, "json, table or a Go template ({{.Repository}})");
    c->add_flag("-q,--quiet", o->quiet, "print only the image IDs");
    c->add_flag("--no-trunc", o->no_trunc, "do not truncate the image IDs");
    c->add_flag("--digests", o->digests, "show the manifest digests");
    c->add_flag("-a,--all", o->all, "all images (berth keeps no intermediate images)");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_ls(ctx, *o); }; });
    return c;
}

CLI::App* add_image_inspect(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<InspectOptions>();
    CLI::App* c = parent.add_subcommand(name, "display the configuration of images");
    c->add_option("-f,--format", o->format, "json (default) or a Go template ({{.Id}})");
    c->add_option("--platform", o->platform, "os/arch[/variant] of a multi-platform image");
    c->add_option("image", o->names, "images to inspect")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_inspect(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
