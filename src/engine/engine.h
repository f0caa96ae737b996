// The engine's container operations, daemonless: each call does its work against berth.db, the
// kernel and the task's monitor, and returns. Every read of a container first reconciles its
// task.json with the kernel (a dead monitor means the task is gone: monitor-lost).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/container_store.h"
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
    Result<pid_t> start(const ContainerRecord& record);

    Result<ContainerView> find(const std::string& ref);
    Result<std::vector<ContainerView>> list();
    // Reconciles one container's task with the kernel.
    ContainerView view(ContainerRecord record);

    // Sends the stop signal through the monitor, SIGKILL after timeout seconds; waits for the
    // task to be down. `warning` gets a note when PID 1 has no handler for the stop signal.
    Result<void> stop(const ContainerView& c, std::optional<int> timeout, std::string* warning);
    Result<void> kill(const ContainerView& c, int signal);
    // Until the task is over for good (restarts included); returns the final view.
    Result<ContainerView> wait(const ContainerRecord& record, int timeout_ms = -1);
    // Stops (force) or refuses (running, not force: EBUSY), then removes everything.
    Result<void> remove(const ContainerView& c, bool force);
    Result<GcReport> gc();

  private:
    Engine(Paths paths, image::ImageStore images, ContainerStore containers)
        : paths_(std::move(paths)), images_(std::move(images)), containers_(containers) {}
    // Removes the pieces of a container whose task is down; the row last.
    Result<void> cleanup(const ContainerRecord& record);
    Result<void> runtime_delete(const std::string& runtime, const std::string& id);

    Paths paths_;
    image::ImageStore images_;
    ContainerStore containers_;
};

}  // namespace berth::engine
