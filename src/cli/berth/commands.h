// The command table: each add_* defines one command under `parent` with the given name, so
// the same command serves as `berth image ls` and `berth images`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/berth/context.h"

namespace berth::cli {

CLI::App* add_image_ls(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_inspect(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_pull(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_push(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_load(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_save(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_import(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_import_rootfs(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_export(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_rm(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_tag(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_image_prune(CLI::App& parent, Context& ctx, const std::string& name);

// `berth image ...` and podman's top-level aliases (images, pull, push, load, save, rmi, tag).
void add_image_commands(CLI::App& app, Context& ctx);

// Containers: run, create, start, stop, kill, rm, ps, logs, wait, inspect (top level and
// under `berth container`), and `berth system gc`.
void add_container_commands(CLI::App& app, Context& ctx);

// exec, pause, unpause, top and attach under `parent` (container_exec.cpp).
void add_container_task_commands(CLI::App& parent, Context& ctx);
CLI::App* add_container_attach(CLI::App& parent, Context& ctx, const std::string& name);

// stats and update under `parent` (container_stats.cpp, container_update.cpp).
void add_container_resource_commands(CLI::App& parent, Context& ctx);
CLI::App* add_container_stats(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_update(CLI::App& parent, Context& ctx, const std::string& name);

// restart, cp and info, each under `parent` (the top level and `berth container`):
// container_restart.cpp, container_cp.cpp, container_info.cpp.
CLI::App* add_container_restart(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_cp(CLI::App& parent, Context& ctx, const std::string& name);
CLI::App* add_container_info(CLI::App& parent, Context& ctx, const std::string& name);

// `berth task ls|ps|kill|pause|resume|start|delete`: the running half of containers, as
// `ctr task` shows it (task.cpp).
void add_task_commands(CLI::App& app, Context& ctx);

// `berth namespace ls|rm` (namespace.cpp).
void add_namespace_commands(CLI::App& app, Context& ctx);

// `berth volume ls|create|rm` (volume.cpp).
void add_volume_commands(CLI::App& app, Context& ctx);

// `berth network create|ls|inspect|rm|connect|disconnect` and `berth port` (network.cpp).
void add_network_commands(CLI::App& app, Context& ctx);

// Unpacks an image's layers into snapshots after a pull, load or import (as podman and ctr do),
// unless its platform is not this machine's.
Result<void> unpack_for_host(image::ImageStore& store, const std::string& ref);

}  // namespace berth::cli
