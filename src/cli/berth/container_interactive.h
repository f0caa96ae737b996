// The foreground session of `run -i/-t`, `start -a [-i]` and `attach`: our stdio connected to
// the container's through its monitor (engine/attach.h), a pty's raw mode and window size, the
// detach keys.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "base/result.h"
#include "engine/engine.h"

namespace berth::cli {

struct InteractiveFlags {
    bool interactive = false;  // -i: our stdin goes to the container
    std::string detach_keys;   // --detach-keys, as given
    // `berth attach` keeps its old ways: a signal detaches, and the end of our stdin leaves the
    // container's open.
    bool proxy_signals = true;
    bool close_stdin_at_eof = true;
};

// --detach-keys on `c` (docker's default, ctrl-p,ctrl-q).
void add_detach_keys_flag(CLI::App* c, std::string& keys);

// What create recorded in config.json: process.terminal (-t), the stdin annotation (-i).
bool container_has_tty(const engine::ContainerRecord& r);
bool container_keeps_stdin(const engine::ContainerRecord& r);

// Starts the container through `start` (given a StartAttach, so that we see its first byte; a
// pty gets our window size) or, without `start`, attaches to its running task; then copies
// until the task is over (its final view) or we detach (nullopt: it keeps running). Signals we
// get go to the container (proxy_signals); the detach keys typed on our terminal detach.
using StartFn = std::function<Result<void>(const engine::StartAttach&)>;
Result<std::optional<engine::ContainerView>> attach_foreground(engine::Engine& eng,
                                                               const engine::ContainerRecord& r,
                                                               const InteractiveFlags& flags,
                                                               const StartFn& start);

}  // namespace berth::cli
