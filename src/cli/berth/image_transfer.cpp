// `berth image pull` and `berth image push`: a registry (Docker Registry HTTP API v2).
#include <unistd.h>

#include <memory>

#include "cli/berth/commands.h"
#include "image/reference.h"
#include "image/registry/registry.h"

namespace berth::cli {
namespace {

struct RegistryFlags {
    bool tls_verify = true;
    std::string authfile, cert_dir;
    bool quiet = false;
};

void add_registry_flags(CLI::App* c, RegistryFlags& f) {
    c->add_flag("--tls-verify,!--no-tls-verify", f.tls_verify,
                "require HTTPS and verify certificates (--tls-verify=false allows plain HTTP)")
        ->default_str("true");
    c->add_option("--authfile", f.authfile, "credentials file (docker config.json format)");
    c->add_option("--cert-dir", f.cert_dir, "directory of extra CA certificates (*.crt)");
    c->add_flag("-q,--quiet", f.quiet, "no progress output");
}

image::RegistryOptions registry_options(const RegistryFlags& f) {
    image::RegistryOptions o;
    o.tls_verify = f.tls_verify;
    o.auth_file = f.authfile;
    o.cert_dir = f.cert_dir;
    o.progress = !f.quiet && ::isatty(STDERR_FILENO);
    return o;
}

// podman accepts transports on the command line; berth speaks only to registries.
std::string strip_transport(const std::string& name) {
    if (name.starts_with("docker://")) return name.substr(9);
    return name;
}

struct PullOptions {
    RegistryFlags reg;
    std::string platform, os, arch, variant;
    std::string name;
};

Result<int> run_pull(Context& ctx, const PullOptions& o) {
    image::Platform platform = BERTH_TRY(parse_platform(o.platform, o.os, o.arch, o.variant));
    image::Reference ref = BERTH_TRY(image::Reference::parse(strip_transport(o.name)));
    auto store = BERTH_TRY(ctx.open_images());
    std::string name = ref.str();
    {
        // Held from the first blob until the name is set, so a concurrent gc keeps them.
        UniqueFd lease = BERTH_TRY(store.write_lease());
        image::Descriptor top =
            BERTH_TRY_CTX(image::pull(store.content(), ref, platform, registry_options(o.reg)),
                          "pulling `" + name + "`");
        BERTH_TRY(store.set(name, top));
    }
    auto resolved = BERTH_TRY_CTX(store.resolve(name, platform), name);
    if (platform == image::host_platform() ||
        (platform.os == "linux" && platform.architecture == image::host_platform().architecture)) {
        BERTH_TRY(unpack_for_host(store, name));
    }
    BERTH_TRY(print_out(resolved.id().hex + "\n"));
    return 0;
}

struct PushOptions {
    RegistryFlags reg;
    std::string name, dest;
};

Result<int> run_push(Context& ctx, const PushOptions& o) {
    auto store = BERTH_TRY(ctx.open_images());
    FoundImage f = BERTH_TRY(find_image(store, o.name, image::host_platform()));
    // A named image pushes what the name points at (a whole index); an ID its manifest.
    image::Descriptor top = f.record ? f.record->target : f.resolved.manifest_desc;
    std::string dest = o.dest.empty() ? (f.record ? f.record->name : o.name) : o.dest;
    image::Reference ref = BERTH_TRY(image::Reference::parse(strip_transport(dest)));
    BERTH_TRY_CTX(image::push(store.content(), top, ref, registry_options(o.reg)),
                  "pushing to `" + ref.str() + "`");
    if (!o.reg.quiet) {
        std::string msg = "Writing manifest to image destination\n";
        (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    }
    return 0;
}

}  // namespace

CLI::App* add_image_pull(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<PullOptions>();
    CLI::App* c = parent.add_subcommand(name, "pull an image from a registry");
    add_registry_flags(c, o->reg);
    c->add_option("--platform", o->platform, "os/arch[/variant] to pull (default: this machine)");
    c->add_option("--os", o->os, "operating system to pull");
    c->add_option("--arch", o->arch, "architecture to pull");
    c->add_option("--variant", o->variant, "architecture variant to pull");
    c->add_option("image", o->name, "image reference")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_pull(ctx, *o); }; });
    return c;
}

CLI::App* add_image_push(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<PushOptions>();
    CLI::App* c = parent.add_subcommand(name, "push an image to a registry");
    add_registry_flags(c, o->reg);
    c->add_option("image", o->name, "local image")->required();
    c->add_option("destination", o->dest, "registry reference (default: the image's name)");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_push(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
