// oci::parse_spec on invalid input: each case breaks one field of a valid config and checks that
// the error is EINVAL and starts with that field's path.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "oci/spec.h"

namespace berth::oci {
namespace {

using nlohmann::json;

constexpr const char* kBase = R"json({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": false,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 0, "gid": 0, "additionalGids": [1, 2]},
    "args": ["sh"],
    "env": ["PATH=/bin"],
    "cwd": "/",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
                {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}],
    "scheduler": {"policy": "SCHED_OTHER", "nice": 5},
    "ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 0},
    "execCPUAffinity": {"initial": "0"}
  },
  "root": {"path": "rootfs"},
  "hostname": "h",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/d", "options": ["rbind"],
     "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
     "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}
  ],
  "hooks": {"prestart": [{"path": "/bin/true"}], "poststop": [{"path": "/bin/true"}]},
  "annotations": {"a": "b"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}, {"type": "ipc"},
                   {"type": "uts"}, {"type": "user"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "timeOffsets": {"monotonic": {"secs": 1, "nanosecs": 2}},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229}],
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}],
      "memory": {"limit": 1048576},
      "cpu": {"quota": 50000, "period": 100000},
      "pids": {"limit": 100},
      "blockIO": {"weight": 100, "weightDevice": [{"major": 8, "minor": 0, "weight": 10}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
      "network": {"classID": 1, "priorities": [{"name": "eth0", "priority": 1}]},
      "rdma": {"mlx5_1": {"hcaHandles": 1}},
      "unified": {"memory.high": "max"}
    },
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
        {"names": ["chmod"], "action": "SCMP_ACT_KILL"}
      ]
    },
    "rootfsPropagation": "private",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "personality": {"domain": "LINUX"}
  }
})json";

using Mutation = std::function<void(json&)>;

Mutation set(const char* pointer, json value) {
    return [p = std::string(pointer), v = std::move(value)](json& doc) {
        doc[json::json_pointer(p)] = v;
    };
}

Mutation erase(const char* pointer) {
    return [p = std::string(pointer)](json& doc) {
        json::json_pointer ptr(p);
        json& parent = doc[ptr.parent_pointer()];
        if (parent.is_array()) {
            parent.erase(std::stoul(ptr.back()));
        } else {
            parent.erase(ptr.back());
        }
    };
}

Mutation both(Mutation a, Mutation b) {
    return [a = std::move(a), b = std::move(b)](json& doc) {
        a(doc);
        b(doc);
    };
}

struct Case {
    Mutation mutate;
    std::string expected;  // the error message starts with this
};

// A NUL byte inside a JSON string, which nlohmann keeps as a real '\0'.
const std::string kWithNul("a\0b", 3);

const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        // Generic part.
        {erase("/ociVersion"), "ociVersion: required field missing"},
        {set("/ociVersion", 1), "ociVersion: expected a string, got number 1"},
        {set("/ociVersion", "2.0.0"), "ociVersion: unsupported version \"2.0.0\""},
        {set("/ociVersion", "1.4.0"), "ociVersion: unsupported version \"1.4.0\""},
        {set("/ociVersion", "0.5.0-dev"), "ociVersion: unsupported version"},
        {set("/ociVersion", "1.0"), "ociVersion: invalid version \"1.0\""},
        {set("/ociVersion", "v1.0.0"), "ociVersion: invalid version"},
        {erase("/root"), "root: required field missing"},
        {set("/root", "rootfs"), "root: expected an object, got string"},
        {erase("/root/path"), "root.path: required field missing"},
        {set("/root/path", ""), "root.path: must not be empty"},
        {set("/root/readonly", "yes"), "root.readonly: expected a boolean, got string"},
        {set("/hostname", 5), "hostname: expected a string, got number 5"},
        {set("/mounts", "x"), "mounts: expected an array, got string"},
        {set("/mounts/0/destination", "proc"), "mounts[0].destination: must be an absolute path"},
        {erase("/mounts/1/destination"), "mounts[1].destination: required field missing"},
        {set("/mounts/1/options", "ro"), "mounts[1].options: expected an array, got string"},
        {set("/mounts/1/options/0", true), "mounts[1].options[0]: expected a string, got boolean"},
        {set("/mounts/1/uidMappings/0/size", 0),
         "mounts[1].uidMappings[0].size: must be greater than zero"},
        {set("/hooks/prestart/0/path", "true"), "hooks.prestart[0].path: must be an absolute path"},
        {erase("/hooks/prestart/0/path"), "hooks.prestart[0].path: required field missing"},
        {set("/hooks/poststop/0/timeout", 0), "hooks.poststop[0].timeout: must be greater than"},
        {set("/hooks/poststop", json::object()), "hooks.poststop: expected an array, got object"},
        {set("/annotations/a", 1), "annotations[\"a\"]: expected a string, got number 1"},
        {erase("/linux/namespaces/4"), "hostname: requires a uts namespace"},
        {set("/domainname", "d"), ""},  // valid: uts is there
        {set("/linux", "x"), "linux: expected an object, got string"},

        // process
        {set("/process", json::array()), "process: expected an object, got array"},
        {set("/process/user/uid", "0"),
         "process.user.uid: expected a non-negative integer, got string"},
        {set("/process/user/uid", -1), "process.user.uid: expected a non-negative integer, got -1"},
        {set("/process/user/uid", 4294967296LL),
         "process.user.uid: expected an integer between 0 and 4294967295, got 4294967296"},
        {set("/process/user/gid", 1.5),
         "process.user.gid: expected a non-negative integer, got number 1.5"},
        {set("/process/user/umask", 1000), "process.user.umask: must be at most 0777"},
        {set("/process/user/additionalGids/1", "x"),
         "process.user.additionalGids[1]: expected a non-negative integer, got string"},
        {set("/process/args", json::array()), "process.args: must not be empty"},
        {erase("/process/args"), "process.args: must not be empty"},
        {set("/process/args", "sh"), "process.args: expected an array, got string"},
        {set("/process/args/0", 5), "process.args[0]: expected a string, got number 5"},
        {set("/process/args/0", kWithNul), "process.args[0]: contains a NUL byte"},
        {set("/process/cwd", "tmp"), "process.cwd: must be an absolute path, got \"tmp\""},
        {erase("/process/cwd"), "process.cwd: required field missing"},
        {set("/process/env/0", "NOEQUALS"), "process.env[0]: invalid environment variable"},
        {set("/process/env/0", "=x"), "process.env[0]: invalid environment variable"},
        {set("/process/terminal", "true"), "process.terminal: expected a boolean, got string"},
        {erase("/process/consoleSize/width"), "process.consoleSize.width: required field missing"},
        {set("/process/capabilities/bounding/0", "cap_kill"),
         "process.capabilities.bounding[0]: invalid capability name \"cap_kill\""},
        {set("/process/capabilities/effective/0", "KILL"),
         "process.capabilities.effective[0]: invalid capability name"},
        {set("/process/capabilities", json::array({"CAP_KILL"})),
         "process.capabilities: expected an object, got array"},
        {set("/process/rlimits/0/type", "RLIMIT_FOO"),
         "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
        {set("/process/rlimits/0/soft", 2048), "process.rlimits[0]: soft limit 2048 exceeds hard"},
        {set("/process/rlimits/1/type", "RLIMIT_NOFILE"),
         "process.rlimits[1].type: duplicate rlimit"},
        {erase("/process/rlimits/0/hard"), "process.rlimits[0].hard: required field missing"},
        {set("/process/oomScoreAdj", 1001), "process.oomScoreAdj: must be between -1000 and 1000"},
        {set("/process/scheduler/policy", "SCHED_FOO"),
         "process.scheduler.policy: unknown scheduling policy"},
        {erase("/process/scheduler/policy"), "process.scheduler.policy: required field missing"},
        {set("/process/scheduler/nice", 40), "process.scheduler.nice: must be between -20 and 19"},
        {set("/process/scheduler/priority", 5),
         "process.scheduler.priority: SCHED_OTHER takes no priority"},
        {set("/process/scheduler/policy", "SCHED_FIFO"),
         "process.scheduler.priority: SCHED_FIFO needs a priority between 1 and 99"},
        {set("/process/scheduler/flags", json::array({"SCHED_FLAG_X"})),
         "process.scheduler.flags[0]: unknown scheduler flag"},
        {set("/process/scheduler/policy", "SCHED_DEADLINE"),
         "process.scheduler.runtime: SCHED_DEADLINE needs a runtime"},
        {set("/process/ioPriority/class", "IOPRIO_CLASS_NONE"),
         "process.ioPriority.class: unknown I/O priority class"},
        {set("/process/ioPriority/priority", 8),
         "process.ioPriority.priority: must be between 0 and 7"},
        {set("/process/execCPUAffinity/initial", "a"),
         "process.execCPUAffinity.initial: invalid CPU list"},

        // linux: namespaces and what depends on them
        {set("/linux/namespaces/2/type", "foo"),
         "linux.namespaces[2].type: unknown namespace type \"foo\""},
        {erase("/linux/namespaces/0/type"), "linux.namespaces[0].type: required field missing"},
        {set("/linux/namespaces/3/type", "pid"), "linux.namespaces[3].type: duplicate \"pid\""},
        {set("/linux/namespaces/1/path", "netns"),
         "linux.namespaces[1].path: must be an absolute path"},
        {erase("/linux/namespaces/5"), "linux.uidMappings: requires a user namespace"},
        {erase("/linux/gidMappings"), "linux.gidMappings: required with a new user namespace"},
        {set("/linux/uidMappings/0/hostID", "x"),
         "linux.uidMappings[0].hostID: expected a non-negative integer, got string"},
        {erase("/linux/uidMappings/0/size"), "linux.uidMappings[0].size: required field missing"},
        {set("/linux/uidMappings/0/hostID", 4294967295LL),
         "linux.uidMappings[0]: range overflows 32-bit ids"},
        {erase("/linux/namespaces/6"), "linux.timeOffsets: requires a time namespace"},
        {set("/linux/namespaces/6/path", "/proc/1/ns/time"),
         "linux.timeOffsets: requires a new time namespace"},
        {set("/linux/timeOffsets/realtime", json::object()),
         "linux.timeOffsets[\"realtime\"]: unknown clock"},
        {set("/linux/timeOffsets/monotonic/secs", "1"),
         "linux.timeOffsets[\"monotonic\"].secs: expected an integer, got string"},
        {set("/linux/timeOffsets/monotonic/nanosecs", 1000000000),
         "linux.timeOffsets[\"monotonic\"].nanosecs: must be less than 1000000000"},

        // linux.sysctl
        {set("/linux/sysctl/vm.swappiness", "10"),
         "linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl"},
        {set("/linux/sysctl/kernel.pid_max", "10"),
         "linux.sysctl[\"kernel.pid_max\"]: not a namespaced sysctl"},
        {erase("/linux/namespaces/1"),
         "linux.sysctl[\"net.ipv4.ip_forward\"]: requires a network namespace"},
        {both(erase("/linux/namespaces/3"), set("/linux/sysctl/kernel.shmmax", "1")),
         "linux.sysctl[\"kernel.shmmax\"]: requires an ipc namespace"},
        {both(erase("/linux/namespaces/3"), set("/linux/sysctl/fs.mqueue.msg_max", "1")),
         "linux.sysctl[\"fs.mqueue.msg_max\"]: requires an ipc namespace"},
        {both(both(erase("/linux/namespaces/4"), erase("/hostname")),
              set("/linux/sysctl/kernel.hostname", "x")),
         "linux.sysctl[\"kernel.hostname\"]: requires a uts namespace"},
        {set("/linux/sysctl/net~1..~1..~1vm~1swappiness", "1"),
         "linux.sysctl[\"net/../../vm/swappiness\"]: invalid sysctl name"},
        {set("/linux/sysctl/net..ipv4", "1"), "linux.sysctl[\"net..ipv4\"]: invalid sysctl name"},
        {[](json& doc) { doc["linux"]["sysctl"][std::string("net.\0x", 6)] = "1"; },
         "linux.sysctl: key \"net.\\u0000x\" contains a NUL byte"},
        {set("/linux/sysctl/net.ipv4.ip_forward", 1),
         "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got number 1"},

        // linux.devices and paths
        {set("/linux/devices/0/type", "x"), "linux.devices[0].type: device type must be"},
        {set("/linux/devices/0/path", "dev/fuse"), "linux.devices[0].path: must be an absolute"},
        {erase("/linux/devices/0/major"), "linux.devices[0].major: required field missing"},
        {set("/linux/devices/0/fileMode", -1),
         "linux.devices[0].fileMode: expected a non-negative integer, got -1"},
        {set("/linux/maskedPaths/0", "proc/kcore"),
         "linux.maskedPaths[0]: must be an absolute path"},
        {set("/linux/readonlyPaths", "/proc/sys"),
         "linux.readonlyPaths: expected an array, got string"},
        {set("/linux/rootfsPropagation", "weird"),
         "linux.rootfsPropagation: unknown propagation \"weird\""},
        {set("/linux/personality/domain", "LINUX64"), "linux.personality.domain: personality"},
        {set("/linux/personality/flags", json::array({"X"})),
         "linux.personality.flags[0]: unsupported personality flag"},
        {set("/linux/intelRdt", "x"), "linux.intelRdt: expected an object, got string"},
        {set("/linux/memoryPolicy", 1), "linux.memoryPolicy: expected an object"},
        {set("/linux/netDevices", json::array()), "linux.netDevices: expected an object"},

        // linux.seccomp
        {set("/linux/seccomp/defaultAction", "SCMP_ACT_FOO"),
         "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\""},
        {erase("/linux/seccomp/defaultAction"),
         "linux.seccomp.defaultAction: required field missing"},
        {set("/linux/seccomp/defaultAction", "SCMP_ACT_NOTIFY"),
         "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
        {set("/linux/seccomp/defaultErrnoRet", 1), "linux.seccomp.defaultErrnoRet: only"},
        {set("/linux/seccomp/architectures/0", "x86_64"),
         "linux.seccomp.architectures[0]: invalid architecture"},
        {set("/linux/seccomp/flags", json::array({"SECCOMP_FILTER_FLAG_X"})),
         "linux.seccomp.flags[0]: unknown seccomp flag"},
        {set("/linux/seccomp/listenerMetadata", "m"),
         "linux.seccomp.listenerMetadata: set without listenerPath"},
        {set("/linux/seccomp/syscalls/1/action", "SCMP_ACT_NOTIFY"),
         "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"},
        {set("/linux/seccomp/syscalls/1/action", "SCMP_ACT_X"),
         "linux.seccomp.syscalls[1].action: unknown seccomp action"},
        {set("/linux/seccomp/syscalls/1/names", json::array()),
         "linux.seccomp.syscalls[1].names: must list at least one syscall"},
        {set("/linux/seccomp/syscalls/1/names/0", ""),
         "linux.seccomp.syscalls[1].names[0]: empty syscall name"},
        {set("/linux/seccomp/syscalls/1/errnoRet", 1),
         "linux.seccomp.syscalls[1].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE"},
        {set("/linux/seccomp/syscalls/0/args/0/op", "SCMP_CMP_FOO"),
         "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator"},
        {set("/linux/seccomp/syscalls/0/args/0/index", 6),
         "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5"},
        {erase("/linux/seccomp/syscalls/0/args/0/value"),
         "linux.seccomp.syscalls[0].args[0].value: required field missing"},

        // linux.resources
        {set("/linux/resources/memory/limit", "1G"),
         "linux.resources.memory.limit: expected an integer, got string"},
        {set("/linux/resources/memory/limit", -2), "linux.resources.memory.limit: must be -1"},
        {set("/linux/resources/memory/swappiness", 101),
         "linux.resources.memory.swappiness: must be between 0 and 100"},
        {set("/linux/resources/memory/disableOOMKiller", 1),
         "linux.resources.memory.disableOOMKiller: expected a boolean"},
        {set("/linux/resources/cpu/shares", -1),
         "linux.resources.cpu.shares: expected a non-negative integer, got -1"},
        {set("/linux/resources/cpu/idle", 2), "linux.resources.cpu.idle: must be 0 or 1"},
        {set("/linux/resources/cpu/burst", 60000), "linux.resources.cpu.burst: must not exceed"},
        {set("/linux/resources/cpu/realtimeRuntime", "x"),
         "linux.resources.cpu.realtimeRuntime: expected an integer"},
        {set("/linux/resources/cpu/cpus", 1), "linux.resources.cpu.cpus: expected a string"},
        {erase("/linux/resources/pids/limit"),
         "linux.resources.pids.limit: required field missing"},
        {set("/linux/resources/blockIO/weight", 70000),
         "linux.resources.blockIO.weight: expected an integer between 0 and 65535"},
        {erase("/linux/resources/blockIO/weightDevice/0/weight"),
         "linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight"},
        {set("/linux/resources/blockIO/weightDevice/0/leafWeight", "x"),
         "linux.resources.blockIO.weightDevice[0].leafWeight: expected a non-negative"},
        {erase("/linux/resources/blockIO/throttleReadBpsDevice/0/rate"),
         "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field missing"},
        {set("/linux/resources/hugepageLimits/0/pageSize", "2M"),
         "linux.resources.hugepageLimits[0].pageSize: invalid page size \"2M\""},
        {set("/linux/resources/hugepageLimits/0/pageSize", "../2MB"),
         "linux.resources.hugepageLimits[0].pageSize: invalid page size"},
        {set("/linux/resources/network/priorities/0/name", "eth 0"),
         "linux.resources.network.priorities[0].name: invalid interface name"},
        {set("/linux/resources/network/classID", -1),
         "linux.resources.network.classID: expected a non-negative integer"},
        {set("/linux/resources/rdma/mlx5_1", json::object()),
         "linux.resources.rdma[\"mlx5_1\"]: needs hcaHandles or hcaObjects"},
        {set("/linux/resources/rdma/a b", json::object({{"hcaHandles", 1}})),
         "linux.resources.rdma[\"a b\"]: invalid RDMA device name"},
        {set("/linux/resources/unified/..~1x", "1"),
         "linux.resources.unified[\"../x\"]: invalid cgroup file name"},
        {set("/linux/resources/unified/memory.max", 5),
         "linux.resources.unified[\"memory.max\"]: expected a string"},
        {erase("/linux/resources/devices/0/allow"),
         "linux.resources.devices[0].allow: required field missing"},
        {set("/linux/resources/devices/0/type", "x"),
         "linux.resources.devices[0].type: device type must be"},
        {set("/linux/resources/devices/0/access", "rwx"),
         "linux.resources.devices[0].access: access must combine"},
    };
    return all;
}

TEST(OciSpecErrors, BaseIsValid) {
    auto r = parse_spec(kBase);
    ASSERT_TRUE(r.ok()) << r.error().what();
}

TEST(OciSpecErrors, EachBrokenFieldIsNamed) {
    const json base = json::parse(kBase);
    size_t i = 0;
    for (const Case& c : cases()) {
        json doc = base;
        c.mutate(doc);
        auto r = parse_spec(doc.dump());
        if (c.expected.empty()) {
            EXPECT_TRUE(r.ok()) << "case " << i << ": " << r.error().what();
        } else if (r.ok()) {
            ADD_FAILURE() << "case " << i << " parsed; expected: " << c.expected;
        } else {
            EXPECT_EQ(r.error().errno_value(), EINVAL) << "case " << i;
            EXPECT_EQ(r.error().message().substr(0, c.expected.size()), c.expected)
                << "case " << i << ": full message: " << r.error().message();
        }
        i++;
    }
}

TEST(OciSpecErrors, MalformedJsonNamesTheByte) {
    auto r = parse_spec(R"({"ociVersion": })");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_EQ(
        r.error().message().rfind("config.json: parse error at byte 15 (line 1, column 16)", 0), 0u)
        << r.error().message();

    for (const char* junk : {"", "{", "nul", "{\"a\":1,}", "[1 2]", "{\"a\": \"\xff\"}"}) {
        auto bad = parse_spec(junk);
        ASSERT_FALSE(bad.ok()) << junk;
        EXPECT_EQ(bad.error().message().rfind("config.json: parse error", 0), 0u)
            << bad.error().message();
    }
}

TEST(OciSpecErrors, TopLevelMustBeAnObject) {
    for (const char* doc : {"[]", "1", "\"x\"", "null", "true"}) {
        auto r = parse_spec(doc);
        ASSERT_FALSE(r.ok()) << doc;
        EXPECT_EQ(r.error().message().rfind("config.json: expected a JSON object, got", 0), 0u)
            << r.error().message();
    }
}

TEST(OciSpecErrors, ExactMessages) {
    // The forms other tools (and people) grep for.
    json doc = json::parse(kBase);
    doc["process"]["user"]["uid"] = "0";
    EXPECT_EQ(parse_spec(doc.dump()).error().message(),
              "process.user.uid: expected a non-negative integer, got string");
    doc = json::parse(kBase);
    doc["linux"]["namespaces"][2]["type"] = "foo";
    EXPECT_EQ(parse_spec(doc.dump()).error().message(),
              "linux.namespaces[2].type: unknown namespace type \"foo\"");
    doc = json::parse(kBase);
    doc["linux"]["sysctl"]["vm.swappiness"] = "10";
    EXPECT_EQ(parse_spec(doc.dump()).error().message(),
              "linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl");
}

}  // namespace
}  // namespace berth::oci
