// The OCI config.json of a new container: runc's default container (oci::default_spec_json)
// with the image's Entrypoint, Cmd, Env, WorkingDir, User and the user's overrides, as docker
// and podman combine them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/resources.h"
#include "engine/user_lookup.h"
#include "image/oci_image.h"

namespace berth::engine {

// What `berth create/run` takes from the command line. The resource flags (--cpus, --memory,
// --pids-limit, --ulimit...) are the ResourceFlags part, shared with `berth update`.
struct CreateOptions : ResourceFlags {
    std::string image;
    std::vector<std::string> command;           // CMD... after the image
    std::optional<std::string> entrypoint;      // --entrypoint ("" clears it)
    std::vector<std::string> env;               // -e K=V (K alone: from berth's env)
    std::vector<std::string> env_files;         // --env-file
    std::string workdir;                        // -w
    std::optional<std::string> user;            // -u
    std::string hostname;                       // --hostname (default: the id's first 12)
    std::map<std::string, std::string> labels;  // -l
    std::string name;                           // --name
    std::string network = "none";  // none | host | bridge | NAME[,NAME] | container:REF
    // Networking (engine/network): --ip, --mac-address, --add-host, --dns, --dns-search,
    // --dns-option, -p/--publish, -P/--publish-all.
    std::string ip, mac_address;
    std::vector<std::string> add_hosts, dns, dns_search, dns_options, publish;
    bool publish_all = false;
    bool read_only = false;
    std::string restart = "no";
    std::string stop_signal;  // empty: the image's, else SIGTERM
    int stop_timeout = 10;
    std::string runtime;       // name or path; empty: berth-runtime
    bool auto_remove = false;  // --rm

    // Security.
    std::vector<std::string> cap_add, cap_drop;  // CAP_X, X, x or ALL
    bool privileged = false;
    std::vector<std::string> security_opts;  // no-new-privileges, seccomp=unconfined|FILE
    // Mounts and init.
    std::vector<std::string> volumes;  // -v HOST:CTR[:OPTS], NAME:CTR[:OPTS]
    std::vector<std::string> tmpfs;    // --tmpfs PATH[:OPTS]
    std::string volumes_dir;           // where named volumes live (<root>/volumes)
    bool init = false;                 // --init: berth-init as PID 1
    // -t: process.terminal (a pty held by the monitor); -i: the monitor keeps a stdin for
    // attach clients (recorded as the annotation io.berth.stdin, as CRI-O does).
    bool tty = false;
    bool interactive = false;
};

struct SpecInputs {
    const image::ImageConfig* image = nullptr;
    const CreateOptions* options = nullptr;
    std::string id;
    std::string cgroups_path;
    ResolvedUser user;
    std::vector<std::string> env;  // already merged (merge_env)
};

// Image env, then the env files, then -e, later ones replacing earlier of the same key; PATH
// and HOSTNAME filled in when missing, HOME from the user's passwd entry.
Result<std::vector<std::string>> merge_env(const image::ImageConfig& image,
                                           const CreateOptions& options,
                                           const std::string& hostname, const std::string& home);

// The process args: --entrypoint (or the image's Entrypoint) followed by CMD (or, when no
// CMD was given and the entrypoint was not overridden, the image's Cmd). EINVAL when empty.
Result<std::vector<std::string>> process_args(const image::ImageConfig& image,
                                              const CreateOptions& options);

// The capability set of a container: the default set (podman's) with --cap-add/--cap-drop
// applied as docker does (ALL in either), or every capability of the kernel when privileged.
// EINVAL naming the flag for an unknown capability.
Result<std::vector<std::string>> container_caps(const CreateOptions& options);

// "512m", "1g", "1048576": bytes (binary units, as docker). EINVAL naming `flag`.
Result<int64_t> parse_bytes(const std::string& flag, const std::string& text);

// Set to "true" in config.json when the container keeps its stdin open (-i).
inline constexpr const char kStdinAnnotation[] = "io.berth.stdin";

// Where --init's berth-init appears inside the container.
inline constexpr const char kInitPath[] = "/run/berth-init";

// The whole config.json text.
Result<std::string> build_spec(const SpecInputs& in);

// The hostname a container gets: --hostname, else the first 12 digits of its id.
std::string container_hostname(const CreateOptions& options, const std::string& id);

}  // namespace berth::engine
