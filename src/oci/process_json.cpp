// Process -> JSON, the inverse of parse_process (for `exec --process` files written by the engine).
#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace berth::oci {

namespace {

using OJson = nlohmann::ordered_json;

void put_strings(OJson& obj, const char* key, const std::vector<std::string>& values) {
    if (!values.empty()) obj[key] = values;
}

}  // namespace

std::string to_json(const Process& p) {
    OJson out = OJson::object();
    if (p.terminal) out["terminal"] = true;
    if (p.console_size) {
        out["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
    }
    OJson user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
    if (p.user.umask) user["umask"] = *p.user.umask;
    if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
    if (!p.user.username.empty()) user["username"] = p.user.username;
    out["user"] = std::move(user);
    out["args"] = p.args;
    if (p.command_line) out["commandLine"] = *p.command_line;
    put_strings(out, "env", p.env);
    out["cwd"] = p.cwd;
    if (p.capabilities) {
        OJson caps = OJson::object();
        put_strings(caps, "bounding", p.capabilities->bounding);
        put_strings(caps, "effective", p.capabilities->effective);
        put_strings(caps, "inheritable", p.capabilities->inheritable);
        put_strings(caps, "permitted", p.capabilities->permitted);
        put_strings(caps, "ambient", p.capabilities->ambient);
        out["capabilities"] = std::move(caps);
    }
    if (!p.rlimits.empty()) {
        OJson rlimits = OJson::array();
        for (const Rlimit& rl : p.rlimits) {
            rlimits.push_back({{"type", rl.type}, {"hard", rl.hard}, {"soft", rl.soft}});
        }
        out["rlimits"] = std::move(rlimits);
    }
    if (p.no_new_privileges) out["noNewPrivileges"] = true;
    if (!p.apparmor_profile.empty()) out["apparmorProfile"] = p.apparmor_profile;
    if (!p.selinux_label.empty()) out["selinuxLabel"] = p.selinux_label;
    if (p.oom_score_adj) out["oomScoreAdj"] = *p.oom_score_adj;
    if (p.scheduler) {
        const Scheduler& s = *p.scheduler;
        OJson sched = {{"policy", s.policy}};
        if (s.nice != 0) sched["nice"] = s.nice;
        if (s.priority != 0) sched["priority"] = s.priority;
        if (!s.flags.empty()) sched["flags"] = s.flags;
        if (s.runtime != 0) sched["runtime"] = s.runtime;
        if (s.deadline != 0) sched["deadline"] = s.deadline;
        if (s.period != 0) sched["period"] = s.period;
        out["scheduler"] = std::move(sched);
    }
    if (p.io_priority) {
        out["ioPriority"] = {{"class", p.io_priority->io_class},
                             {"priority", p.io_priority->priority}};
    }
    if (p.exec_cpu_affinity_initial || p.exec_cpu_affinity_final) {
        OJson aff = OJson::object();
        if (p.exec_cpu_affinity_initial) aff["initial"] = *p.exec_cpu_affinity_initial;
        if (p.exec_cpu_affinity_final) aff["final"] = *p.exec_cpu_affinity_final;
        out["execCPUAffinity"] = std::move(aff);
    }
    // Strings come from a parsed spec or the engine; replace rather than throw on bad UTF-8.
    return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace berth::oci
