// The runtime's operations, one per runc verb. The CLI front ends parse flags into these
// option structs and make exactly one call; everything else lives below this line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cgroup/stats.h"
#include "oci/spec.h"

namespace berth::runtime {

struct GlobalOptions {
    std::string root = "/run/berth-runtime";  // state directory, one subdirectory per container
    bool systemd_cgroup = false;
    bool debug = false;
};

struct CreateOptions {
    std::string id;
    std::string bundle = ".";
    std::string config_file;  // default: <bundle>/config.json
    std::string pid_file;
    std::string console_socket;
    bool no_pivot = false;
    bool no_new_keyring = false;
    unsigned preserve_fds = 0;
    bool keep = false;  // run: leave the stopped container for `delete`
    // run in the foreground: with process.terminal and no console socket, berth-runtime
    // holds the pty master itself and proxies its own stdio.
    bool proxy_terminal = false;
    // run: this process starts the container itself (start_created), so the start gate is a
    // pipe rather than fifos in the state directory; `state` shows it as running from the
    // start.
    bool in_process_start = false;
};

// The OCI state, plus what `list` shows.
struct ContainerState {
    std::string oci_version;
    std::string id;
    std::string status;  // creating created running paused stopped
    pid_t pid = 0;
    std::string bundle;
    std::map<std::string, std::string> annotations;
    std::string created;  // RFC 3339
    std::string owner;
    std::string rootfs;
};

struct ExecOptions {
    std::string id;
    oci::Process process;
    std::string console_socket;
    std::string pid_file;
    bool detach = false;
    unsigned preserve_fds = 0;
};

Result<void> create(const GlobalOptions& g, const CreateOptions& o);
Result<void> start(const GlobalOptions& g, const std::string& id);
// Foreground: returns the container's exit status (128+signal for a signal death).
// Detached: returns 0 once the container is started.
Result<int> run(const GlobalOptions& g, const CreateOptions& o, bool detach);
Result<ContainerState> state(const GlobalOptions& g, const std::string& id);
Result<std::vector<ContainerState>> list(const GlobalOptions& g);
Result<void> kill(const GlobalOptions& g, const std::string& id, int signal, bool all);
Result<void> remove(const GlobalOptions& g, const std::string& id, bool force);
Result<int> exec(const GlobalOptions& g, const ExecOptions& o);
Result<std::vector<pid_t>> pids(const GlobalOptions& g, const std::string& id);
Result<void> pause(const GlobalOptions& g, const std::string& id);
Result<void> resume(const GlobalOptions& g, const std::string& id);
Result<void> update(const GlobalOptions& g, const std::string& id, const oci::Resources& r);
Result<cgroup::Stats> stats(const GlobalOptions& g, const std::string& id);
// A container's process spec as created (for `exec` flag-form defaults: env, cwd, user, caps).
Result<oci::Process> init_process(const GlobalOptions& g, const std::string& id);

// The OCI runtime-spec version berth-runtime targets: `--version`, features' ociVersionMax.
inline constexpr const char* kOciSpecVersion = "1.2.1";

// The OCI "features" document for this runtime.
std::string features_json();
// The state JSON as the spec writes it (`state` verb, hooks' stdin).
std::string state_json(const ContainerState& s);

}  // namespace berth::runtime
