// Images in files: `load`, `save`, `import` (a rootfs tarball), `import-rootfs` (a directory)
// and `export` (an image's flattened filesystem as one tar).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "base/file.h"
#include "base/strings.h"
#include "cli/berth/commands.h"
#include "image/archive/archive.h"
#include "image/archive/rootfs.h"

namespace berth::cli {
namespace {

using image::Json;

// ---- load --------------------------------------------------------------------------------------

struct LoadOptions {
    std::string input;
    bool quiet = false;
};

Result<int> run_load(Context& ctx, const LoadOptions& o) {
    std::string input = o.input;
    auto store = BERTH_TRY(ctx.open_images());
    UniqueFd spool;
    if (input.empty()) {
        // podman reads stdin. The formats are sniffed before they are read, so a pipe is spooled
        // to an unlinked file under the root first; a redirected file is read in place.
        if (::isatty(STDIN_FILENO)) return Error(EINVAL) << "no input: use -i FILE or a pipe";
        struct stat st;
        if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
            input = "/proc/self/fd/0";
        } else {
            int fd = ::open(ctx.global.root.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
            if (fd < 0) return ErrnoError() << "spooling stdin under `" << ctx.global.root << "`";
            spool.reset(fd);
            std::vector<char> buf(1 << 20);
            for (;;) {
                ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) return ErrnoError() << "reading stdin";
                if (n == 0) break;
                BERTH_TRY(write_all(spool, std::string_view(buf.data(), n)));
            }
            input = "/proc/self/fd/" + std::to_string(spool.get());
        }
    }
    std::vector<std::string> loaded;
    {
        UniqueFd lease = BERTH_TRY(store.write_lease());
        auto images = BERTH_TRY_CTX(image::import_any(store.content(), input),
                                    "loading `" + (o.input.empty() ? "stdin" : o.input) + "`");
        for (const auto& [name, desc] : images) {
            if (name.empty()) {  // unnamed: reachable by digest until gc
                loaded.push_back(desc.digest.str());
                continue;
            }
            std::string normalized = BERTH_TRY_CTX(normalize_name(name), "image name");
            BERTH_TRY(store.set(normalized, desc));
            loaded.push_back(normalized);
        }
    }
    std::string out;
    for (const auto& name : loaded) {
        BERTH_TRY(unpack_for_host(store, name));
        out += "Loaded image: " + name + "\n";
    }
    BERTH_TRY(print_out(out));  // -q only quiets progress, as in podman
    return 0;
}

// ---- save --------------------------------------------------------------------------------------

struct SaveOptions {
    std::string output, format = "docker-archive";
    bool compress = false, uncompressed = false, multi = false, quiet = false;
    std::vector<std::string> names;
};

Result<int> run_save(Context& ctx, const SaveOptions& o) {
    if (o.output.empty() && ::isatty(STDOUT_FILENO)) {
        return Error(EINVAL) << "refusing to write an archive to a terminal: use -o FILE";
    }
    std::string output = o.output.empty() ? "/dev/stdout" : o.output;
    auto store = BERTH_TRY(ctx.open_images());
    std::vector<image::NamedImage> images;
    for (const auto& n : o.names) {
        FoundImage f = BERTH_TRY(find_image(store, n, image::host_platform()));
        if (f.record) {
            images.emplace_back(f.record->name, f.record->target);
        } else {
            images.emplace_back("", f.resolved.manifest_desc);
        }
    }
    if (o.format == "docker-archive") {
        BERTH_TRY(image::export_docker_archive(store.content(), images, output));
    } else if (o.format == "oci-archive") {
        BERTH_TRY(image::export_oci_archive(store.content(), images, output));
    } else if (o.format == "oci-dir") {
        BERTH_TRY(image::export_oci_layout(store.content(), images, output));
    } else {
        return Error(EINVAL) << "unsupported --format `" << o.format
                             << "`: docker-archive, oci-archive or oci-dir";
    }
    return 0;
}

// ---- import and import-rootfs -----------------------------------------------------------------

// Dockerfile-like --change instructions (podman import -c).
Result<void> apply_change(image::NewImageConfig& c, const std::string& change) {
    std::string_view s = trim(change);
    size_t sp = s.find_first_of(" =");
    if (sp == std::string_view::npos) {
        return Error(EINVAL) << "--change `" << change << "`: want INSTRUCTION VALUE";
    }
    std::string op(s.substr(0, sp));
    for (auto& ch : op) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    std::string value(trim(s.substr(sp + 1)));
    // The JSON form ["a","b"] or the shell form, as a Dockerfile.
    auto words = [&]() -> Result<std::vector<std::string>> {
        if (value.starts_with("[")) {
            Json j = Json::parse(value, nullptr, false);
            if (!j.is_discarded() && j.is_array()) {
                std::vector<std::string> out;
                for (const auto& w : j) {
                    if (!w.is_string()) break;
                    out.push_back(w.get<std::string>());
                }
                if (out.size() == j.size()) return out;
            }
            return Error(EINVAL) << "--change `" << change << "`: not a JSON array of strings";
        }
        return std::vector<std::string>{"/bin/sh", "-c", value};
    };
    auto key_value = [&]() -> std::pair<std::string, std::string> {
        size_t eq = value.find('=');
        if (eq == std::string::npos) {
            size_t blank = value.find(' ');
            if (blank == std::string::npos) return {value, ""};
            return {value.substr(0, blank), std::string(trim(value.substr(blank + 1)))};
        }
        std::string v = value.substr(eq + 1);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return {value.substr(0, eq), v};
    };
    if (op == "CMD") {
        c.cmd = BERTH_TRY(words());
    } else if (op == "ENTRYPOINT") {
        c.entrypoint = BERTH_TRY(words());
    } else if (op == "ENV") {
        auto [k, v] = key_value();
        c.env.push_back(k + "=" + v);
    } else if (op == "LABEL") {
        auto [k, v] = key_value();
        c.labels[k] = v;
    } else if (op == "WORKDIR") {
        c.working_dir = value;
    } else if (op == "USER") {
        c.user = value;
    } else if (op == "STOPSIGNAL") {
        c.stop_signal = value;
    } else if (op == "EXPOSE") {
        for (const auto& p : split(value, ' ')) {
            if (p.empty()) continue;
            c.exposed_ports.push_back(p.find('/') == std::string::npos ? p + "/tcp" : p);
        }
    } else if (op == "VOLUME") {
        for (const auto& v : split(value, ' ')) {
            if (!v.empty()) c.volumes.push_back(v);
        }
    } else {
        return Error(EINVAL) << "--change `" << change << "`: instruction " << op
                             << " is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, "
                                "USER, VOLUME, WORKDIR";
    }
    return {};
}

struct ImportOptions {
    std::string source, name;
    std::vector<std::string> changes;
    std::string message, platform, os, arch, variant;
    bool quiet = false;
};

Result<int> run_import(Context& ctx, const ImportOptions& o, bool from_directory) {
    image::NewImageConfig config;
    config.platform = BERTH_TRY(parse_platform(o.platform, o.os, o.arch, o.variant));
    for (const auto& ch : o.changes) BERTH_TRY(apply_change(config, ch));
    config.comment = o.message;
    config.created_by =
        from_directory ? "berth image import-rootfs " + o.source : "berth import " + o.source;
    std::string name;
    if (!o.name.empty()) name = BERTH_TRY_CTX(local_name(o.name), "image name");
    auto store = BERTH_TRY(ctx.open_images());
    image::Descriptor desc;
    {
        UniqueFd lease = BERTH_TRY(store.write_lease());
        image::LayerBlob layer =
            from_directory ? BERTH_TRY(image::layer_from_directory(store.content(), o.source))
                           : BERTH_TRY(image::layer_from_tarball(store.content(), o.source));
        desc = BERTH_TRY(image::make_image(store.content(), {layer}, config));
        if (!name.empty()) BERTH_TRY(store.set(name, desc));
    }
    std::string ref = name.empty() ? desc.digest.str() : name;
    auto resolved = BERTH_TRY(store.resolve(ref, config.platform));
    if (config.platform == image::host_platform()) BERTH_TRY(unpack_for_host(store, ref));
    BERTH_TRY(print_out(resolved.id().hex + "\n"));
    return 0;
}

void add_import_flags(CLI::App* c, ImportOptions& o) {
    c->add_option("-c,--change", o.changes,
                  "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
                  "STOPSIGNAL, USER, VOLUME, WORKDIR)")
        ->allow_extra_args(false);
    c->add_option("-m,--message", o.message, "commit message for the image's history");
    c->add_option("--platform", o.platform, "os/arch[/variant] to record (default: this machine)");
    c->add_option("--os", o.os, "operating system to record");
    c->add_option("--arch", o.arch, "architecture to record");
    c->add_option("--variant", o.variant, "architecture variant to record");
    c->add_flag("-q,--quiet", o.quiet, "accepted for podman compatibility");
}

// ---- export ------------------------------------------------------------------------------------

struct ExportOptions {
    std::string name, output, platform;
};

Result<int> run_export(Context& ctx, const ExportOptions& o) {
    if (o.output.empty() && ::isatty(STDOUT_FILENO)) {
        return Error(EINVAL) << "refusing to write a tar to a terminal: use -o FILE";
    }
    std::string output = o.output.empty() ? "/dev/stdout" : o.output;
    image::Platform p = BERTH_TRY(parse_platform(o.platform, "", "", ""));
    auto store = BERTH_TRY(ctx.open_images());
    FoundImage f = BERTH_TRY(find_image(store, o.name, p));
    BERTH_TRY_CTX(image::export_flattened(store.content(), f.resolved.manifest, output),
                  "exporting `" + o.name + "`");
    return 0;
}

}  // namespace

CLI::App* add_image_load(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<LoadOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "load images from an oci-archive, a docker-archive or an OCI layout directory");
    c->add_option("-i,--input", o->input, "archive file or OCI layout directory");
    c->add_flag("-q,--quiet", o->quiet, "accepted for podman compatibility");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_load(ctx, *o); }; });
    return c;
}

CLI::App* add_image_save(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<SaveOptions>();
    CLI::App* c = parent.add_subcommand(name, "save images to an archive or an OCI layout");
    c->add_option("-o,--output", o->output, "file (or directory for oci-dir) to write");
    c->add_option("--format", o->format, "docker-archive (default), oci-archive or oci-dir")
        ->capture_default_str();
    c->add_flag("--compress", o->compress, "accepted for podman compatibility");
    c->add_flag("--uncompressed", o->uncompressed, "accepted for podman compatibility");
    c->add_flag("-m,--multi-image-archive", o->multi,
                "accepted: several images always go into one archive");
    c->add_flag("-q,--quiet", o->quiet, "accepted for podman compatibility");
    c->add_option("image", o->names, "images to save")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_save(ctx, *o); }; });
    return c;
}

CLI::App* add_image_import(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<ImportOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "make a one-layer image from a rootfs tarball (uncompressed, gzip, zstd, xz, bzip2)");
    add_import_flags(c, *o);
    c->add_option("tarball", o->source, "rootfs tarball")->required();
    c->add_option("name", o->name, "name for the image (default: none, its ID only)");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_import(ctx, *o, false); }; });
    return c;
}

CLI::App* add_image_import_rootfs(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<ImportOptions>();
    CLI::App* c = parent.add_subcommand(name, "make a one-layer image from a directory");
    add_import_flags(c, *o);
    c->add_option("directory", o->source, "root filesystem directory")->required();
    c->add_option("name", o->name, "name for the image")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_import(ctx, *o, true); }; });
    return c;
}

CLI::App* add_image_export(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<ExportOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "write an image's filesystem (its layers flattened, whiteouts applied) as a tar");
    c->add_option("-o,--output", o->output, "tar file to write (default: stdout)");
    c->add_option("--platform", o->platform, "os/arch[/variant] of a multi-platform image");
    c->add_option("image", o->name, "image")->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_export(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
