// The `process` object: what to exec and with which credentials, limits and scheduling.
#include <algorithm>
#include <array>

#include "oci/parse_internal.h"

namespace berth::oci::detail {

namespace {

using json::Node;
using json::read;
using json::read_required;

constexpr std::array<std::string_view, 16> kRlimits = {
    "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

constexpr std::array<std::string_view, 6> kSchedPolicies = {
    "SCHED_OTHER", "SCHED_BATCH", "SCHED_IDLE", "SCHED_FIFO", "SCHED_RR", "SCHED_DEADLINE",
};

constexpr std::array<std::string_view, 7> kSchedFlags = {
    "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX",
};

constexpr std::array<std::string_view, 3> kIoPrioClasses = {
    "IOPRIO_CLASS_RT",
    "IOPRIO_CLASS_BE",
    "IOPRIO_CLASS_IDLE",
};

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view v) {
    return std::find(set.begin(), set.end(), v) != set.end();
}

// The spec's pattern is ^CAP_([A-Z]|_)+$; digits are allowed too in case a future name has one.
bool is_capability_name(std::string_view name) {
    if (name.size() <= 4 || name.substr(0, 4) != "CAP_") return false;
    return std::all_of(name.begin() + 4, name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
    });
}

Result<User> read_user(const Node& node) {
    BERTH_TRY(node.expect_object());
    User user;
    BERTH_TRY(read(node, "uid", user.uid));
    BERTH_TRY(read(node, "gid", user.gid));
    BERTH_TRY(read(node, "umask", user.umask));
    if (user.umask && *user.umask > 0777) {
        return node.member("umask")->error() << "must be at most 0777 (511), got " << *user.umask;
    }
    BERTH_TRY(read(node, "additionalGids", user.additional_gids));
    BERTH_TRY(read(node, "username", user.username));
    return user;
}

Result<ConsoleSize> read_console_size(const Node& node) {
    BERTH_TRY(node.expect_object());
    ConsoleSize size;
    BERTH_TRY(read_required(node, "height", size.height));
    BERTH_TRY(read_required(node, "width", size.width));
    return size;
}

Result<std::vector<std::string>> read_capability_set(const Node& node) {
    std::vector<std::string> caps;
    for (const Node& e : BERTH_TRY(node.elements())) {
        std::string name = BERTH_TRY(e.as_string());
        if (!is_capability_name(name)) {
            return e.error() << "invalid capability name " << quote(name) << " (expected CAP_*)";
        }
        caps.push_back(std::move(name));
    }
    return caps;
}

Result<Capabilities> read_capabilities(const Node& node) {
    BERTH_TRY(node.expect_object());
    Capabilities caps;
    const std::pair<std::string_view, std::vector<std::string>*> sets[] = {
        {"bounding", &caps.bounding},       {"effective", &caps.effective},
        {"inheritable", &caps.inheritable}, {"permitted", &caps.permitted},
        {"ambient", &caps.ambient},
    };
    for (const auto& [key, out] : sets) {
        if (auto m = node.member(key)) *out = BERTH_TRY(read_capability_set(*m));
    }
    return caps;
}

Result<Rlimit> read_rlimit(const Node& node) {
    BERTH_TRY(node.expect_object());
    Rlimit rl;
    Node type = BERTH_TRY(json::require(node, "type"));
    rl.type = BERTH_TRY(type.as_string());
    if (!one_of(kRlimits, rl.type)) return type.error() << "unknown rlimit " << quote(rl.type);
    BERTH_TRY(read_required(node, "hard", rl.hard));
    BERTH_TRY(read_required(node, "soft", rl.soft));
    if (rl.soft > rl.hard) {
        return node.error() << "soft limit " << rl.soft << " exceeds hard limit " << rl.hard;
    }
    return rl;
}

Result<Scheduler> read_scheduler(const Node& node) {
    BERTH_TRY(node.expect_object());
    Scheduler s;
    Node policy = BERTH_TRY(json::require(node, "policy"));
    s.policy = BERTH_TRY(policy.as_string());
    if (!one_of(kSchedPolicies, s.policy)) {
        return policy.error() << "unknown scheduling policy " << quote(s.policy);
    }
    BERTH_TRY(read(node, "nice", s.nice));
    if (s.nice < -20 || s.nice > 19) {
        return node.member("nice")->error() << "must be between -20 and 19, got " << s.nice;
    }
    BERTH_TRY(read(node, "priority", s.priority));
    bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
    if (realtime && (s.priority < 1 || s.priority > 99)) {
        return Error(EINVAL) << node.path() << ".priority: " << s.policy
                             << " needs a priority between 1 and 99, got " << s.priority;
    }
    if (!realtime && s.priority != 0) {
        return node.member("priority")->error()
               << s.policy << " takes no priority (must be 0), got " << s.priority;
    }
    if (auto flags = node.member("flags")) {
        for (const Node& e : BERTH_TRY(flags->elements())) {
            std::string flag = BERTH_TRY(e.as_string());
            if (!one_of(kSchedFlags, flag))
                return e.error() << "unknown scheduler flag " << quote(flag);
            s.flags.push_back(std::move(flag));
        }
    }
    BERTH_TRY(read(node, "runtime", s.runtime));
    BERTH_TRY(read(node, "deadline", s.deadline));
    BERTH_TRY(read(node, "period", s.period));
    if (s.policy == "SCHED_DEADLINE") {
        // The kernel's own rule: 0 < runtime <= deadline <= period (period 0 means deadline).
        if (s.runtime == 0) {
            return Error(EINVAL) << node.path() << ".runtime: SCHED_DEADLINE needs a runtime";
        }
        if (s.deadline < s.runtime) {
            return Error(EINVAL) << node.path() << ".deadline: must be at least runtime ("
                                 << s.runtime << "), got " << s.deadline;
        }
        if (s.period != 0 && s.period < s.deadline) {
            return Error(EINVAL) << node.path() << ".period: must be at least deadline ("
                                 << s.deadline << "), got " << s.period;
        }
    }
    return s;
}

Result<IoPriority> read_io_priority(const Node& node) {
    BERTH_TRY(node.expect_object());
    IoPriority prio;
    Node cls = BERTH_TRY(json::require(node, "class"));
    prio.io_class = BERTH_TRY(cls.as_string());
    if (!one_of(kIoPrioClasses, prio.io_class)) {
        return cls.error() << "unknown I/O priority class " << quote(prio.io_class);
    }
    BERTH_TRY(read(node, "priority", prio.priority));
    if (prio.priority < 0 || prio.priority > 7) {
        return node.member("priority")->error() << "must be between 0 and 7, got " << prio.priority;
    }
    return prio;
}

Result<void> read_cpu_affinity(const Node& node, Process& p) {
    BERTH_TRY(node.expect_object());
    const std::pair<std::string_view, std::optional<std::string>*> fields[] = {
        {"initial", &p.exec_cpu_affinity_initial}, {"final", &p.exec_cpu_affinity_final}};
    for (const auto& [key, out] : fields) {
        auto m = node.member(key);
        if (!m) continue;
        std::string list = BERTH_TRY(m->as_string());
        bool ok = std::all_of(list.begin(), list.end(), [](char c) {
            return (c >= '0' && c <= '9') || c == ',' || c == ' ' || c == '-';
        });
        if (!ok) return m->error() << "invalid CPU list " << quote(list);
        *out = std::move(list);
    }
    return {};
}

Result<void> check_env(const Node& node, const std::vector<std::string>& env) {
    for (size_t i = 0; i < env.size(); i++) {
        size_t eq = env[i].find('=');
        if (eq == std::string::npos || eq == 0) {
            return Error(EINVAL) << node.path() << '[' << i << "]: invalid environment variable "
                                 << quote(env[i]) << " (expected NAME=value)";
        }
    }
    return {};
}

}  // namespace

Result<Process> read_process(const Node& node) {
    BERTH_TRY(node.expect_object());
    Process p;
    BERTH_TRY(read(node, "terminal", p.terminal));
    BERTH_TRY(json::read_with(node, "consoleSize", p.console_size, read_console_size));
    if (auto user = node.member("user")) p.user = BERTH_TRY(read_user(*user));

    BERTH_TRY(read(node, "args", p.args));
    if (p.args.empty()) {
        return Error(EINVAL) << node.path() << ".args: must not be empty (nothing to run)";
    }
    BERTH_TRY(read(node, "commandLine", p.command_line));
    if (auto env = node.member("env")) {
        p.env = BERTH_TRY(env->as<std::vector<std::string>>());
        BERTH_TRY(check_env(*env, p.env));
    }
    Node cwd = BERTH_TRY(json::require(node, "cwd"));
    p.cwd = BERTH_TRY(cwd.as_string());
    if (!is_absolute(p.cwd)) return cwd.error() << "must be an absolute path, got " << quote(p.cwd);

    BERTH_TRY(json::read_with(node, "capabilities", p.capabilities, read_capabilities));
    BERTH_TRY(json::read_array(node, "rlimits", p.rlimits, read_rlimit));
    for (size_t i = 0; i < p.rlimits.size(); i++) {
        for (size_t j = 0; j < i; j++) {
            if (p.rlimits[i].type == p.rlimits[j].type) {
                return Error(EINVAL) << node.path() << ".rlimits[" << i
                                     << "].type: duplicate rlimit " << quote(p.rlimits[i].type);
            }
        }
    }
    BERTH_TRY(read(node, "noNewPrivileges", p.no_new_privileges));
    BERTH_TRY(read(node, "apparmorProfile", p.apparmor_profile));
    BERTH_TRY(read(node, "selinuxLabel", p.selinux_label));
    BERTH_TRY(read(node, "oomScoreAdj", p.oom_score_adj));
    if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
        return node.member("oomScoreAdj")->error()
               << "must be between -1000 and 1000, got " << *p.oom_score_adj;
    }
    BERTH_TRY(json::read_with(node, "scheduler", p.scheduler, read_scheduler));
    BERTH_TRY(json::read_with(node, "ioPriority", p.io_priority, read_io_priority));
    if (auto aff = node.member("execCPUAffinity")) BERTH_TRY(read_cpu_affinity(*aff, p));
    return p;
}

}  // namespace berth::oci::detail

namespace berth::oci {

Result<Process> parse_process(std::string_view json_text) {
    json::Json doc = BERTH_TRY(json::parse_document(json_text, "process.json"));
    if (!doc.is_object()) {
        return Error(EINVAL) << "process.json: expected a JSON object, got " << json::describe(doc);
    }
    return detail::read_process(json::Node(doc, "process"));
}

}  // namespace berth::oci
