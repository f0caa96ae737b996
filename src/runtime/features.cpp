// The OCI features document (runtime-spec features.md, features-linux.md): what this build
// recognises, taken from the same name tables the parsers use, so the two cannot drift.
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <string>

#include "base/version.h"
#include "runtime/api.h"
#include "runtime/caps.h"
#include "runtime/mount_options.h"
#include "runtime/namespaces.h"
#include "runtime/seccomp.h"

namespace berth::runtime {
namespace {

using json = nlohmann::ordered_json;

const char* const kHooks[] = {"prestart",       "createRuntime", "createContainer",
                              "startContainer", "poststart",     "poststop"};

const char* const kNamespaceTypes[] = {"cgroup", "ipc",  "mount", "network",
                                       "pid",    "time", "user",  "uts"};

json sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return json(v);
}

json namespaces() {
    auto a = json::array();
    for (const char* type : kNamespaceTypes) {
        if (namespace_flag(type)) a.push_back(type);
    }
    return a;
}

json capabilities() {
    auto a = json::array();
    for (int cap = 0; cap <= kLastKnownCap; cap++) {
        if (const char* name = cap_name(cap)) a.push_back(name);
    }
    return a;
}

// As runc does: a flag the kernel knows makes seccomp(2) fail on the NULL program (EFAULT);
// one it does not know fails with EINVAL first. Nothing is installed either way.
json supported_seccomp_flags() {
    auto a = json::array();
    for (const auto& name : seccomp_flag_names()) {
        auto flag = seccomp_flag_from_name(name);
        if (!flag) continue;
        unsigned probe = *flag;
        // The kernel takes this one only together with a notify listener.
        if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
            probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        }
        long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, nullptr);
        if (rc < 0 && errno == EFAULT) a.push_back(name);
    }
    return a;
}

std::string libseccomp_version() {
    const struct scmp_version* v = seccomp_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro);
}

}  // namespace

std::string features_json() {
    json linux_features;
    linux_features["namespaces"] = namespaces();
    linux_features["capabilities"] = capabilities();
    linux_features["cgroup"] = {
        {"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}};
    linux_features["seccomp"] = {
        {"enabled", true},
        {"actions", sorted(seccomp_action_names())},
        {"operators", sorted(seccomp_op_names())},
        {"archs", sorted(seccomp_arch_names())},
        {"knownFlags", json(seccomp_flag_names())},
        {"supportedFlags", supported_seccomp_flags()},
    };
    linux_features["apparmor"] = {{"enabled", false}};
    linux_features["selinux"] = {{"enabled", false}};
    linux_features["intelRdt"] = {{"enabled", false}};
    linux_features["mountExtensions"] = {{"idmap", {{"enabled", false}}}};

    json doc;
    doc["ociVersionMin"] = "1.0.0";
    // The document may only hold properties this version defines (no netDevices, 1.3).
    doc["ociVersionMax"] = kOciSpecVersion;
    doc["hooks"] = json(std::vector<std::string>(std::begin(kHooks), std::end(kHooks)));
    doc["mountOptions"] = sorted(known_mount_options());
    doc["linux"] = std::move(linux_features);
    doc["annotations"] = {
        {"io.github.berth.commit", berth::commit()},
        {"io.github.berth.version", berth::version()},
        {"io.github.seccomp.libseccomp.version", libseccomp_version()},
    };
    return doc.dump(2);
}

}  // namespace berth::runtime
