// Engine::update: docker's `update` through the OCI runtime's `update --resources FILE ID`
// (runc's interface, which berth-runtime, runc and crun all take), then the stored config.json.
#include <unistd.h>

#include "base/file.h"
#include "base/scope_guard.h"
#include "base/strings.h"
#include "engine/engine.h"
#include "engine/run_command.h"

namespace berth::engine {
namespace {

using OJson = nlohmann::ordered_json;

// Runs the runtime's update; its stderr (trimmed) is the error's text when it fails.
Result<void> runtime_update(const std::vector<std::string>& args) {
    CommandOutcome r = BERTH_TRY(run_command(args));
    if (r.succeeded()) return {};
    std::string msg(trim(r.error_text));
    if (msg.starts_with("Error: ")) msg = msg.substr(7);
    return Error(EIO) << args.front() << " update: " << (msg.empty() ? "failed" : msg);
}

}  // namespace

Result<void> Engine::update(const ContainerView& c, const ResourceFlags& flags) {
    OJson spec;
    try {
        spec = OJson::parse(c.record.spec);
    } catch (const std::exception& e) {
        return Error(EINVAL) << "container " << c.record.id << ": stored config.json: " << e.what();
    }
    OJson current = OJson::object();
    if (spec.contains("linux") && spec["linux"].contains("resources")) {
        current = spec["linux"]["resources"];
    }
    ResourceUpdate u = BERTH_TRY(update_resources(flags, current));
    if (c.running() && c.task && c.task->pid > 0) {
        std::string file = path_join(paths_.task_dir(c.record.id), "update-resources.json");
        BERTH_TRY(write_file_atomic(file, u.changed.dump() + "\n", 0600));
        auto drop = make_scope_guard([&] { ::unlink(file.c_str()); });
        BERTH_TRY(runtime_update({c.record.runtime, "--root", paths_.runtime_root(c.record.runtime),
                                  "update", "--resources", file, c.record.id}));
    }
    // The bundle's config.json too: the monitor restarts the task from it (--restart).
    std::string bundle_config = path_join(paths_.bundle_dir(c.record.id), "config.json");
    if (auto text = read_file(bundle_config); text.ok()) {
        OJson live = OJson::parse(*text, nullptr, false);
        if (live.is_object() && live.contains("linux")) {
            live["linux"]["resources"] = u.merged;
            BERTH_TRY(write_file_atomic(bundle_config, live.dump(1, '\t') + "\n", 0600));
        }
    }
    spec["linux"]["resources"] = u.merged;
    return containers_.update_spec(c.record.id, spec.dump(1, '\t') + "\n");
}

}  // namespace berth::engine
