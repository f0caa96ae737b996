// The plugin skeleton every berth CNI plugin's main() calls: reads the CNI_* environment and
// the network configuration on stdin, checks the spec version, dispatches to one function per
// verb, and prints the result, or the error JSON with the spec's code, on stdout.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "net/cni/types.h"

namespace berth::net::cni {

struct CmdArgs {
    std::string command;       // CNI_COMMAND
    std::string container_id;  // CNI_CONTAINERID
    std::string netns;         // CNI_NETNS
    std::string ifname;        // CNI_IFNAME
    std::string args;          // CNI_ARGS: "K1=V1;K2=V2"
    std::string path;          // CNI_PATH
    std::string stdin_data;    // the network configuration as given
    Json config;               // the same, parsed
    std::string cni_version;   // config["cniVersion"]
};

using Handler = std::function<Outcome(const CmdArgs&)>;

struct PluginFuncs {
    Handler add, del, check, status, gc;
};

// The environment lookups plugin_main uses; tests pass their own.
using Getenv = std::function<const char*(const char*)>;

// Runs one plugin invocation: returns the exit code (0, or 1 after printing an error).
int plugin_main(const PluginFuncs& funcs, std::string_view about);
// The same with explicit inputs: env lookup, stdin text; writes what to print to `out`.
int run_plugin(const PluginFuncs& funcs, std::string_view about, const Getenv& getenv,
               const std::string& stdin_data, std::string& out);

// CNI_ARGS "IgnoreUnknown=1;IP=10.1.2.3" as (key, value) pairs; EINVAL on a malformed pair.
Result<std::vector<std::pair<std::string, std::string>>> parse_cni_args(std::string_view args);

}  // namespace berth::net::cni
