// The exit status of a removed container, kept a while (podman keeps its exit codes for five
// minutes too): `berth wait` started before a --rm container's exit command removed it, or
// given its id just after, still prints the container's status, as docker's does.
// <runroot>/<ns>/exits/<id>.json: {"id", "name", "task": the final task.json}.
#pragma once

#include <optional>
#include <string>

#include "engine/paths.h"
#include "engine/task_info.h"

namespace berth::engine {

// How long a record is kept; older ones are removed when another is written.
inline constexpr int kExitRecordSeconds = 300;

// Before a container's removal: copies its task.json, when the task is over, with its name.
void keep_exit_record(const Paths& paths, const std::string& id, const std::string& name);

// The final task of a removed container, by its id, a unique id prefix or its name; nullopt
// when there is none (or it is too old).
std::optional<TaskInfo> find_exit_record(const Paths& paths, const std::string& ref);

}  // namespace berth::engine
