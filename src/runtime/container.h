// Shared between the verbs: a loaded container (record, config, cgroup) and its status.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "cgroup/manager.h"
#include "oci/spec.h"
#include "runtime/api.h"
#include "runtime/state.h"
#include "runtime/tty_proxy.h"

#include <optional>

namespace berth::runtime {

struct Created {
    pid_t pid = 0;
    Record record;
    std::optional<ConsoleListener>
        console;  // CreateOptions::proxy_terminal: the pty master's way in
    // CreateOptions::in_process_start: what start_created and remove_created use instead of
    // the state directory's fifos, config.json and a second look at the cgroups.
    UniqueFd start_gate;    // write the state here to let the init go on
    UniqueFd start_result;  // EOF: the init reached execve; text: why it did not
    std::unique_ptr<cgroup::Manager> cgroup;
    std::vector<oci::Hook> poststart, poststop;
};

Result<Created> create_container(const GlobalOptions& g, const CreateOptions& o);

struct Container {
    StateDir dir;
    Record record;
    std::unique_ptr<cgroup::Manager> cgroup;

    std::string status();  // created running paused stopped
    bool alive() const { return init_alive(record.pid, record.pid_start); }
    ContainerState to_state();
};

// Opens and locks the container's state and its cgroup.
Result<Container> load_container(const GlobalOptions& g, const std::string& id);

// `start` and `delete` of a container this process created with in_process_start.
Result<void> start_created(Created& c);
Result<void> remove_created(const GlobalOptions& g, Created& c);

}  // namespace berth::runtime
