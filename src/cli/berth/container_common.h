// What the container commands share: the engine opened from the global options, the
// follow-the-log loop of a foreground run and `logs -f`, and podman's status strings.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/berth/context.h"
#include "engine/engine.h"

namespace berth::cli {

Result<engine::Engine> open_engine(const Context& ctx);

// Prints the container's log from the start (or only new records when from_end) until its
// task is over; SIGINT/SIGTERM/SIGHUP/SIGQUIT received meanwhile are passed to the container
// when forward_signals. Returns the final view.
Result<engine::ContainerView> follow_log(engine::Engine& engine, const engine::ContainerRecord& r,
                                         bool timestamps, bool forward_signals,
                                         size_t tail = SIZE_MAX);

// The exit status of a task that is over, as `run` and `wait` report it.
int exit_status(const engine::ContainerView& v);

// "Up 3 seconds", "Exited (0) 2 minutes ago", "Created".
std::string status_text(const engine::ContainerView& v);

// Freezes (or thaws) each named container's processes, printing each name when echo_names
// (`pause`/`unpause` do, `task pause`/`task resume` do not).
Result<void> pause_containers(const Context& ctx, const std::vector<std::string>& names, bool pause,
                              bool echo_names);

// The process args in the stored config.json.
std::vector<std::string> container_command(const engine::ContainerRecord& r);

// The commands, each defined under `parent` as `name` (top level and under `container`).
CLI::App* add_container_run(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_create(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_start(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_stop(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_kill(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_rm(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_ps(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_logs(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_wait(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_inspect(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_system_gc(CLI::App& parent, Context& ctx, const std::string& name);
// Hidden: berth-monitor's exit command for --rm containers (container_cleanup.cpp).
CLI::App* add_container_cleanup(CLI::App& parent, Context& ctx, const std::string& name);

}  // namespace berth::cli
