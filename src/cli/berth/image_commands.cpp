// The `image` command group and podman's top-level aliases for it.
#include <unistd.h>

#include "base/log.h"
#include "cli/berth/commands.h"

namespace berth::cli {

void add_image_commands(CLI::App& app, Context& ctx) {
    CLI::App* image = app.add_subcommand("image", "manage images");
    image->require_subcommand(1);
    image->fallthrough();
    CLI::App* ls = add_image_ls(*image, ctx, "ls");
    ls->alias("list");
    add_image_pull(*image, ctx, "pull");
    add_image_push(*image, ctx, "push");
    add_image_import(*image, ctx, "import");
    add_image_import_rootfs(*image, ctx, "import-rootfs");
    add_image_export(*image, ctx, "export");
    add_image_load(*image, ctx, "load");
    add_image_save(*image, ctx, "save");
    add_image_rm(*image, ctx, "rm");
    add_image_tag(*image, ctx, "tag");
    add_image_inspect(*image, ctx, "inspect");
    add_image_prune(*image, ctx, "prune");

    // podman's shortcuts.
    add_image_ls(app, ctx, "images");
    add_image_pull(app, ctx, "pull");
    add_image_push(app, ctx, "push");
    add_image_load(app, ctx, "load");
    add_image_save(app, ctx, "save");
    add_image_rm(app, ctx, "rmi");
    add_image_tag(app, ctx, "tag");
    add_image_import(app, ctx, "import");
}

Result<void> unpack_for_host(image::ImageStore& store, const std::string& ref) {
    auto resolved = store.resolve(ref, image::host_platform());
    if (!resolved.ok()) {
        // Another platform's image: stored, but nothing here can run it.
        log::debug("not unpacking `" + ref + "`: " + resolved.error().what());
        return {};
    }
    image::UnpackOptions o;
    o.same_owner = ::geteuid() == 0;
    BERTH_TRY_CTX(store.unpack(*resolved, o), "unpacking `" + ref + "`");
    return {};
}

}  // namespace berth::cli
