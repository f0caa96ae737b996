// `berth image rm`, `tag` and `prune`: names, and the garbage they leave.
#include <algorithm>
#include <memory>

#include "cli/berth/commands.h"
#include "engine/container_store.h"

namespace berth::cli {
namespace {

// The layer snapshots containers use: gc must keep them even when no image name reaches them.
Result<std::vector<image::Digest>> container_snapshots(image::ImageStore& store) {
    auto containers = BERTH_TRY(engine::ContainerStore::open(store.db()));
    std::vector<image::Digest> keep;
    for (const auto& c : BERTH_TRY(containers.list_all()))
        for (const auto& id : c.chain_ids) keep.push_back(BERTH_TRY(image::Digest::parse(id)));
    return keep;
}

struct RmOptions {
    bool force = false, all = false, ignore = false;
    std::vector<std::string> names;
};

Result<int> run_rm(Context& ctx, const RmOptions& o) {
    if (o.names.empty() && !o.all) return Error(EINVAL) << "image name or ID must be specified";
    if (!o.names.empty() && o.all) return Error(EINVAL) << "when using --all, specify no images";
    auto store = BERTH_TRY(ctx.open_images());
    image::Platform host = image::host_platform();
    std::string out;
    std::vector<std::string> untag;
    std::vector<std::string> ids;  // images whose every name goes
    if (o.all) {
        for (const auto& rec : BERTH_TRY(store.list())) untag.push_back(rec.name);
    }
    for (const auto& ref : o.names) {
        auto found = find_image(store, ref, host);
        if (!found.ok()) {
            if (found.error().errno_value() == ENOENT) {
                if (o.ignore) continue;
                ctx.failure_exit = 1;  // podman: one of the images does not exist
            }
            return std::move(found).error();
        }
        if (found->record) {  // by name: that name only
            untag.push_back(found->record->name);
            continue;
        }
        // By ID: every name of the image, which takes -f when there are several.
        auto names = BERTH_TRY(store.names_of(found->resolved, host));
        if (names.size() > 1 && !o.force) {
            std::string list;
            for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
            return Error(EINVAL) << "unable to delete image " << found->resolved.id().hex
                                 << " by ID with more than one tag ([" << list
                                 << "]): please force removal";
        }
        untag.insert(untag.end(), names.begin(), names.end());
        ids.push_back(found->resolved.id().hex);
    }
    std::sort(untag.begin(), untag.end());
    untag.erase(std::unique(untag.begin(), untag.end()), untag.end());
    // Which images lose their last name: reported as deleted, like podman.
    std::vector<std::string> before_ids;
    for (const auto& n : untag) {
        auto img = store.resolve(n, host);
        if (img.ok()) before_ids.push_back(img->id().hex);
    }
    for (const auto& n : untag) {
        BERTH_TRY(store.remove(n));
        out += "Untagged: " + n + "\n";
    }
    for (const auto& id : before_ids) {
        if (std::find(ids.begin(), ids.end(), id) != ids.end()) continue;
        auto still = store.resolve(id, host);
        bool named = still.ok() && !BERTH_TRY(store.names_of(*still, host)).empty();
        if (!named) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    // What no name reaches any more goes now (podman frees storage on rmi).
    BERTH_TRY_CTX(store.gc(BERTH_TRY(container_snapshots(store))), "removing unreferenced blobs");
    for (const auto& id : ids) out += "Deleted: " + id + "\n";
    BERTH_TRY(print_out(out));
    return 0;
}

struct TagOptions {
    std::string source;
    std::vector<std::string> targets;
};

Result<int> run_tag(Context& ctx, const TagOptions& o) {
    auto store = BERTH_TRY(ctx.open_images());
    FoundImage f = BERTH_TRY(find_image(store, o.source, image::host_platform()));
    image::Descriptor target = f.record ? f.record->target : f.resolved.manifest_desc;
    for (const auto& t : o.targets) {
        std::string name = BERTH_TRY_CTX(local_name(t), "tag");
        BERTH_TRY(store.set(name, target));
    }
    return 0;
}

struct PruneOptions {
    bool all = false, force = false;
};

Result<int> run_prune(Context& ctx, const PruneOptions& o) {
    auto store = BERTH_TRY(ctx.open_images());
    std::string out;
    if (o.all) {  // every name; the layers of containers stay (gc keeps them)
        image::Platform host = image::host_platform();
        std::vector<std::string> ids;
        for (const auto& rec : BERTH_TRY(store.list())) {
            auto img = store.resolve(rec.name, host);
            if (img.ok()) ids.push_back(img->id().hex);
            BERTH_TRY(store.remove(rec.name));
        }
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        for (const auto& id : ids) out += id + "\n";
    }
    auto gc = BERTH_TRY_CTX(store.gc(BERTH_TRY(container_snapshots(store))), "pruning");
    out += "Removed " + std::to_string(gc.blobs_removed) + " blobs and " +
           std::to_string(gc.snapshots_removed) + " snapshots\n";
    out += "Total reclaimed space: " + human_size(static_cast<double>(gc.bytes_freed)) + "\n";
    BERTH_TRY(print_out(out));
    return 0;
}

}  // namespace

CLI::App* add_image_rm(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<RmOptions>();
    CLI::App* c = parent.add_subcommand(name, "remove images (untag; unreferenced data goes)");
    c->add_flag("-f,--force", o->force, "remove an image by ID even when it has several names");
    c->add_flag("-a,--all", o->all, "remove all images");
    c->add_flag("-i,--ignore", o->ignore, "ignore images that do not exist");
    c->add_option("image", o->names, "names or IDs");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_rm(ctx, *o); }; });
    return c;
}

CLI::App* add_image_tag(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<TagOptions>();
    CLI::App* c = parent.add_subcommand(name, "add names to an image");
    c->add_option("image", o->source, "image")->required();
    c->add_option("target", o->targets, "new names")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_tag(ctx, *o); }; });
    return c;
}

CLI::App* add_image_prune(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<PruneOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "remove blobs and snapshots no image uses (-a: and every image)");
    c->add_flag("-a,--all", o->all, "remove all images too");
    c->add_flag("-f,--force", o->force, "do not ask (berth never asks)");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_prune(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
