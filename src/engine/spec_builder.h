// The OCI config.json of a new container: runc's default container (oci::default_spec_json)
// with the image's Entrypoint, Cmd, Env, WorkingDir, User and the user's overrides, as docker
// and podman combine them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/user_lookup.h"
#include "image/oci_image.h"

namespace berth::engine {

// What `berth create/run` takes from the command line.
struct CreateOptions {
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
    std::string network = "none";               // none | host
    bool read_only = false;
    std::string restart = "no";
    std::string stop_signal;  // empty: the image's, else SIGTERM
    int stop_timeout = 10;
    std::string runtime;       // name or path; empty: berth-runtime
    bool auto_remove = false;  // --rm
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

// The whole config.json text.
Result<std::string> build_spec(const SpecInputs& in);

// The hostname a container gets: --hostname, else the first 12 digits of its id.
std::string container_hostname(const CreateOptions& options, const std::string& id);

}  // namespace berth::engine
