#include "engine/paths.h"

#include "base/file.h"

namespace berth::engine {

std::string Paths::state_dir(const std::string& id) const {
    return path_join(path_join(root, "containers"), id);
}
std::string Paths::upper_dir(const std::string& id) const {
    return path_join(state_dir(id), "upper");
}
std::string Paths::work_dir(const std::string& id) const {
    return path_join(state_dir(id), "work");
}
std::string Paths::log_path(const std::string& id) const {
    return path_join(state_dir(id), "ctr.log");
}
std::string Paths::ns_dir() const {
    return path_join(runroot, ns);
}
std::string Paths::bundle_dir(const std::string& id) const {
    return path_join(path_join(ns_dir(), "containers"), id);
}
std::string Paths::rootfs_dir(const std::string& id) const {
    return path_join(bundle_dir(id), "rootfs");
}
std::string Paths::task_dir(const std::string& id) const {
    return path_join(path_join(ns_dir(), "tasks"), id);
}
std::string Paths::netns_path(const std::string& id) const {
    return path_join(path_join(runroot, "netns"), id);
}
std::string Paths::runtime_root(const std::string& runtime_path) const {
    std::string name = runtime_path.substr(runtime_path.rfind('/') + 1);
    return path_join(path_join(runroot, "runtime"), name);
}

std::string cgroup_path(const std::string& ns, const std::string& id) {
    return "/berth/" + ns + "-" + id;
}

}  // namespace berth::engine
