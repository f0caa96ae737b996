// `berth cp`: docker cp's command line. One side is CONTAINER:PATH, the other a host path or
// "-" (a tar stream on stdin or stdout).
#include <memory>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "engine/container_copy.h"

namespace berth::cli {
namespace {

struct CpOptions {
    std::string src, dest;
    engine::CopyOptions copy;
};

struct CopySide {
    std::string container;  // empty: the host (or "-")
    std::string path;
};

// docker's rule: CONTAINER:PATH unless the part before the first ':' has a '/', or the
// argument starts with '/' or '.' (a host path that happens to hold a ':').
CopySide parse_side(const std::string& arg) {
    if (arg == "-" || arg.starts_with("/") || arg.starts_with(".")) return {"", arg};
    size_t colon = arg.find(':');
    if (colon == std::string::npos || colon == 0) return {"", arg};
    std::string before = arg.substr(0, colon);
    if (before.find('/') != std::string::npos) return {"", arg};
    return {before, arg.substr(colon + 1)};
}

Result<int> run_cp(Context& ctx, const CpOptions& o) {
    CopySide src = parse_side(o.src), dest = parse_side(o.dest);
    if (!src.container.empty() && !dest.container.empty()) {
        return Error(EINVAL) << "copying between containers is not supported";
    }
    if (src.container.empty() && dest.container.empty()) {
        return Error(EINVAL) << "one of SRC and DEST must be CONTAINER:PATH";
    }
    const CopySide& inside = src.container.empty() ? dest : src;
    if (inside.path.empty()) {
        return Error(EINVAL) << "`" << inside.container << ":`: no path in the container";
    }
    const std::string& outside = src.container.empty() ? src.path : dest.path;
    if (outside.empty()) return Error(EINVAL) << "empty host path";

    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(inside.container));
    auto fs = BERTH_TRY(engine::open_container_fs(eng, v));
    if (!src.container.empty()) {
        BERTH_TRY(engine::copy_from_container(fs, src.path, dest.path, o.copy));
    } else {
        BERTH_TRY(engine::copy_to_container(fs, src.path, dest.path, o.copy));
    }
    return 0;
}

}  // namespace

CLI::App* add_container_cp(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<CpOptions>();
    CLI::App* c = parent.add_subcommand(
        name, "copy files between a container and the host (CONTAINER:PATH, a path or -)");
    c->add_flag("-a,--archive", o->copy.archive, "keep the source's uid and gid");
    c->add_flag("-L,--follow-link", o->copy.follow_link, "follow SRC when it is a symlink");
    c->add_option("src", o->src, "SRC: CONTAINER:PATH, a host path, or - (a tar on stdin)")
        ->required();
    c->add_option("dest", o->dest, "DEST: CONTAINER:PATH, a host path, or - (a tar on stdout)")
        ->required();
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_cp(ctx, *o); }; });
    return c;
}

}  // namespace berth::cli
