// The engine's container operations, daemonless: each call does its work against berth.db, the
// kernel and the task's monitor, and returns. Every read of a container first reconciles its
// task.json with the kernel (a dead monitor means the task is gone: monitor-lost).
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "engine/container_store.h"
#include "engine/network/container_net.h"
#include "engine/paths.h"
#include "engine/spec_builder.h"
#include "engine/task_info.h"
#include "image/image_store.h"

namespace berth::engine {

// A container and what its task is doing, as podman names the states.
struct ContainerView {
    ContainerRecord record;
    std::optional<TaskInfo> task;
    // created (no task yet) | running | restarting | exited (the task is over) | stopping
    std::string state;
    bool running() const { return state == "running" || state == "restarting"; }
};

// A start with the caller attached from the first byte (`run -i/-t`, `start -a`): one end of
// a SOCK_SEQPACKET socketpair becomes the monitor's attach client (engine/attach.h speaks to
// the other), and a pty gets the caller's window size before the container starts.
struct StartAttach {
    int monitor_end = -1;  // borrowed; the monitor gets a copy
    unsigned short rows = 0, cols = 0;
};

// What `berth system gc` cleaned.
struct GcReport {
    std::vector<std::string> removed;  // one line per thing, for the user
};

// docker's exit status for a task that could not start: 127 when the command was not found,
// 126 when it could not be executed, else 125.
int start_failure_exit_code(const std::string& message);
// no, on-failure[:N], always, unless-stopped (what berth-monitor's --restart takes).
Result<void> check_restart_policy(const std::string& policy);

class Engine {
  public:
    static Result<Engine> open(const Paths& paths);
    const Paths& paths() const { return paths_; }
    image::ImageStore& images() { return images_; }

    // Records a container (unpacking its image) and prepares its writable layer. image_name:
    // the name the user gave, normalized (or the ID when given by ID).
    Result<ContainerRecord> create(const CreateOptions& options, const image::ResolvedImage& image,
                                   const std::string& image_name);
    // Mounts the rootfs, makes the netns, writes config.json and starts a monitor. A start
    // failure is EIO with the runtime's message (see start_failure_exit_code).
    Result<pid_t> start(const ContainerRecord& record, const StartAttach& attach = {});

    Result<ContainerView> find(const std::string& ref);
    Result<std::vector<ContainerView>> list();
    // Reconciles one container's task with the kernel.
    ContainerView view(ContainerRecord record);

    // Sends the stop signal through the monitor, SIGKILL after timeout seconds; waits for the
    // task to be down. `warning` gets a note when PID 1 has no handler for the stop signal.
    Result<void> stop(const ContainerView& c, std::optional<int> timeout, std::string* warning);
    Result<void> kill(const ContainerView& c, int signal);
    // `berth update`: new cgroup limits, applied through the runtime's `update` when the task
    // runs, and kept in the stored config.json for later starts (engine/update.cpp).
    Result<void> update(const ContainerView& c, const ResourceFlags& flags);
    // Until the task is over for good (restarts included); returns the final view (state
    // "removed" when the container went meanwhile, e.g. by its --rm exit command).
    Result<ContainerView> wait(const ContainerRecord& record, int timeout_ms = -1);
    // Stops (force) or refuses (running, not force: EBUSY), then removes everything.
    Result<void> remove(const ContainerView& c, bool force);
    Result<GcReport> gc();
    // The rootfs mounted where and as start mounts it (it then stays until rm); its path.
    // `berth cp` on a container that is not running.
    Result<std::string> mount(const ContainerRecord& record);
    // `berth task delete`: forgets a task that is over (the runtime's state and the task dir),
    // so that the container is `created` again; force stops a running task first, else EBUSY.
    // ENOENT when there is no task (engine_tasks.cpp).
    Result<void> delete_task(const ContainerView& c, bool force);
    // The containers of every namespace (`berth namespace ls`; engine_tasks.cpp).
    Result<std::vector<ContainerRecord>> list_all_namespaces();
    // berth-monitor's exit command (`berth container cleanup [--rm] ID`, lifecycle.cpp): under
    // the container's lock, removes it (remove) when its task is over. A container that is
    // gone already, or was started again meanwhile, is left as it is: success.
    Result<void> cleanup_exited(const std::string& id, bool remove);

    // Networks (container_network.cpp): `berth network connect|disconnect` (a running
    // container is attached or detached at once), the ids of the containers naming a network,
    // and a container's network settings (mode, networks, published ports, DNS).
    Result<void> network_connect(const ContainerView& c, const std::string& network);
    Result<void> network_disconnect(const ContainerView& c, const std::string& network);
    Result<std::vector<std::string>> network_users(const std::string& network);
    Result<network::ContainerNet> container_net(const ContainerRecord& record) const;
    // docker's NetworkSettings for inspect: Ports, Networks (address, gateway, MAC of each
    // attachment while attached), SandboxKey and the /etc files' paths.
    nlohmann::json network_settings(const ContainerRecord& record) const;

  private:
    Engine(Paths paths, image::ImageStore images, ContainerStore containers)
        : paths_(std::move(paths)), images_(std::move(images)), containers_(containers) {}
    // Removes the pieces of a container whose task is down; the row last.
    Result<void> cleanup(const ContainerRecord& record);
    Result<void> runtime_delete(const std::string& runtime, const std::string& id);
    // A started container without task.json (lifecycle.cpp): its run root state was lost
    // (reboot, wiped run root). Kills what is left, frees its mounts, netns, runtime state and
    // cgroups, and records the task as exited (monitor-lost). nullopt: it never started.
    std::optional<TaskInfo> recover_lost_task(const ContainerRecord& record);
    // A row without task.json whose runtime state or cgroup exists while no monitor works on it
    // (task_orphans.cpp): what a killed create or monitor left is killed and deleted.
    void reap_unowned_task(const ContainerRecord& record);
    // Whether a process in /berth/<ns>-<id> was forked by an OCI runtime of this run root
    // (an init still waiting for `start`): gc may remove a cgroup no row names then.
    bool cgroup_made_here(const std::string& ns, const std::string& id) const;
    // Parts of gc() (gc.cpp): leftover cgroups and /berth parents; stale lock files.
    void gc_cgroups(GcReport& report, const std::set<std::string>& orphan_ids);
    void gc_locks(GcReport& report, const std::set<std::string>& row_ids);
    // Networking (container_network.cpp): create's checks of the network flags; at start the
    // netns, CNI attachments and /etc files, named in `spec`; their release (never fails: what a
    // DEL leaves, gc retries); gc's DEL and GC of attachments no container row names.
    Result<network::ContainerNet> prepare_network(const CreateOptions& options,
                                                  const image::ImageConfig& image);
    Result<void> start_network(const ContainerRecord& record, nlohmann::ordered_json& spec);
    void release_network(const ContainerRecord& record);
    Result<std::vector<std::string>> gc_network(const std::vector<ContainerRecord>& rows);
    Result<void> write_etc_files(const ContainerRecord& record, const network::ContainerNet& net,
                                 const std::string& hostname);

    Paths paths_;
    image::ImageStore images_;
    ContainerStore containers_;
};

}  // namespace berth::engine
