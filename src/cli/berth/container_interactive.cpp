#include "cli/berth/container_interactive.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "engine/attach.h"
#include "engine/detach_keys.h"
#include "engine/spec_builder.h"
#include "engine/terminal.h"

namespace berth::cli {
namespace {

nlohmann::json parse_spec(const engine::ContainerRecord& r) {
    return nlohmann::json::parse(r.spec, nullptr, false);
}

}  // namespace

void add_detach_keys_flag(CLI::App* c, std::string& keys) {
    keys = engine::kDefaultDetachKeys;
    c->add_option("--detach-keys", keys,
                  "keys that detach, leaving the container running (\"\": none)")
        ->capture_default_str()
        ->check([](const std::string& text) {
            // Refused while parsing: nothing is created for a command that cannot run.
            auto parsed = engine::parse_detach_keys(text);
            if (parsed.ok()) return std::string();
            std::string msg = parsed.error().what();  // CLI11 names the flag itself
            if (msg.starts_with("--detach-keys: ")) msg.erase(0, 15);
            return msg;
        });
}

bool container_has_tty(const engine::ContainerRecord& r) {
    auto spec = parse_spec(r);
    if (!spec.is_object() || !spec.contains("process")) return false;
    const auto& process = spec["process"];
    return process.is_object() && process.contains("terminal") && process["terminal"] == true;
}

bool container_keeps_stdin(const engine::ContainerRecord& r) {
    auto spec = parse_spec(r);
    if (!spec.is_object() || !spec.contains("annotations")) return false;
    const auto& a = spec["annotations"];
    return a.is_object() && a.contains(engine::kStdinAnnotation) &&
           a[engine::kStdinAnnotation] == "true";
}

Result<std::optional<engine::ContainerView>> attach_foreground(engine::Engine& eng,
                                                               const engine::ContainerRecord& r,
                                                               const InteractiveFlags& flags,
                                                               const StartFn& start) {
    engine::AttachOptions o;
    o.detach_keys = BERTH_TRY(engine::parse_detach_keys(flags.detach_keys));
    o.task_dir = eng.paths().task_dir(r.id);
    o.tty = container_has_tty(r);
    o.forward_stdin = flags.interactive && container_keeps_stdin(r);
    o.close_stdin_at_eof = flags.close_stdin_at_eof;  // docker's StdinOnce for run/start
    o.proxy_signals = flags.proxy_signals;

    UniqueFd sock;
    if (start) {
        FdPair pair = BERTH_TRY(engine::attach_socketpair());
        engine::StartAttach sa;
        sa.monitor_end = pair.second.get();
        if (o.tty) {
            auto size = engine::window_size(STDOUT_FILENO);
            if (!size) size = engine::window_size(STDIN_FILENO);
            if (size) {
                sa.rows = size->rows;
                sa.cols = size->cols;
            }
        }
        BERTH_TRY(start(sa));
        pair.second.reset();  // the monitor's now: its close is our hangup
        sock = std::move(pair.first);
    } else {
        sock = BERTH_TRY(engine::connect_attach(o.task_dir));
        o.send_initial_size = o.tty;
    }
    auto end = BERTH_TRY(engine::attach_session(sock, o));
    if (end == engine::AttachEnd::kDetached) return std::optional<engine::ContainerView>();
    sock.reset();
    // The monitor hung up once task.json said stopped (or it died: wait reconciles).
    return std::optional<engine::ContainerView>(BERTH_TRY(eng.wait(r)));
}

}  // namespace berth::cli
