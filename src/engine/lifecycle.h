// The end of a container's life, and what is left when the run root's state is lost:
//   - cgroups: the runtime's delete removes a container's cgroup (/berth/<ns>-<id> in every
//     hierarchy) but not the shared /berth parent, and nothing removes either when the
//     runtime's state went with the run root. rm, gc and reconciliation do it here (rmdir
//     only: a parent another container is being started in is simply busy).
//   - the exit command berth-monitor runs for a --rm container (conmon's --exit-command):
//     `berth --root R --runroot RR -n NS container cleanup --rm ID`.
//   - <state dir>/started.json: a copy of task.json written once a task has started. The state
//     root persists across reboots and the run root does not, so a container that has this
//     file but no task.json was running when its run root state was lost: the engine reports
//     it exited (monitor-lost) rather than never started.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/paths.h"
#include "engine/task_info.h"

namespace berth::engine {

// The cgroup v1 and cgroup2 hierarchies mounted below /sys/fs/cgroup.
std::vector<std::string> cgroup_mounts();

// Whether the container's cgroup exists in any hierarchy.
bool container_cgroup_exists(const std::string& ns, const std::string& id);

// The processes in the container's cgroup, in every hierarchy.
std::vector<pid_t> container_cgroup_pids(const std::string& ns, const std::string& id);

// Kills whatever still runs in the container's cgroup (in every hierarchy) and removes it; the
// shared /berth parents stay (gc removes them). Returns the directories removed. Only for a
// container whose task is over.
std::vector<std::string> remove_container_cgroups(const std::string& ns, const std::string& id);

// rmdir of /berth in every hierarchy; a parent that still has a child is left.
void remove_empty_cgroup_parents();

// The names below /berth in every hierarchy ("<ns>-<id>"), once each.
std::vector<std::string> berth_cgroup_names();

// berth-monitor's --exit-command and its arguments for a --rm container: this very binary,
// with the global options that find the container again.
Result<std::vector<std::string>> cleanup_command(const Paths& paths, const std::string& id);

// started.json: written after a successful start, removed before the next start and first
// thing on removal (so that a reader who finds no task.json but this file knows the task
// state was lost, not removed).
std::string started_file(const Paths& paths, const std::string& id);
Result<void> note_task_started(const Paths& paths, const std::string& id);
void forget_task_started(const Paths& paths, const std::string& id);
// Once task.json says stopped, started.json gets that final copy (one write; after it one read
// per look), so that a container that had exited before a reboot keeps its exit status.
void sync_task_started(const Paths& paths, const std::string& id, const TaskInfo& stopped);

// The task that started.json describes, made final unless it is already: status stopped,
// exit_reason monitor-lost, an error that says the run root's state was lost (and whether the
// host rebooted since), exit_code 137 when killed_init. Written as the task dir's task.json.
Result<TaskInfo> write_lost_task(const Paths& paths, const std::string& id,
                                 const std::string& started_json, bool killed_init);

}  // namespace berth::engine
