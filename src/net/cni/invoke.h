// Running a CNI plugin the way the spec says a runtime does: find its executable by type on a
// search path, give it the CNI_* environment and the configuration on stdin, and read its result
// or its error JSON from stdout. Used by plugins that delegate (bridge -> IPAM) and by the driver.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "net/cni/types.h"

namespace berth::net::cni {

struct PluginEnv {
    std::string command;       // CNI_COMMAND: ADD, DEL, CHECK, VERSION, STATUS, GC
    std::string container_id;  // CNI_CONTAINERID
    std::string netns;         // CNI_NETNS
    std::string ifname;        // CNI_IFNAME
    std::string args;          // CNI_ARGS
    std::string path;          // CNI_PATH, also the search path for find_plugin
};

// The executable for plugin `type` on the colon-separated `search_path`; ENOENT names the type
// and the path. A type containing '/' is refused (EINVAL): plugins are found only on the path.
Result<std::string> find_plugin(std::string_view type, std::string_view search_path);

// Runs the plugin at `plugin_path` with `env` (and nothing else of ours in its environment but
// PATH) and `stdin_data`. Success (exit 0): Outcome::ok(stdout as printed). Failure: the
// CniError it printed, or kInternal with its exit status or signal and what it wrote to stderr
// when stdout held no error JSON; an executable that cannot be run (missing, not executable,
// not a binary) is kPluginNotAvailable, other spawn or pipe failures kIoFailure. Input and
// output are pumped together (no deadlock on big configurations), and a plugin that exits
// without reading stdin does not raise SIGPIPE in the caller. Never throws.
Outcome exec_plugin(const std::string& plugin_path, const PluginEnv& env,
                    std::string_view stdin_data);

// find_plugin + exec_plugin for a delegated plugin (IPAM): `type` on env.path.
Outcome delegate(std::string_view type, const PluginEnv& env, std::string_view stdin_data);

}  // namespace berth::net::cni
