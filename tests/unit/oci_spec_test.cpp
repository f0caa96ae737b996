// oci::parse_spec and friends on valid input: every field lands in the types, runc's and our own
// default configs parse, and the standalone process/resources parsers work.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "oci/spec.h"

namespace berth::oci {
namespace {

#define ASSERT_OK(r) ASSERT_TRUE((r).ok()) << (r).error().what()

// Captured from /usr/sbin/runc 1.1.5 (`runc spec`), verbatim.
constexpr const char* kRuncSpec = R"json({
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620",
				"gid=5"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "sysfs",
			"source": "sysfs",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "network"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
})json";

// `runc spec --rootless` from the same runc (run as root, so the maps are 0 -> 0), compacted.
constexpr const char* kRuncRootlessSpec =
    R"json({"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},"a)json"
    R"json(rgs":["sh"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin)json"
    R"json(:/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_AUDIT_WRITE","CA)json"
    R"json(P_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_N)json"
    R"json(ET_BIND_SERVICE"],"permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVIC)json"
    R"json(E"],"ambient":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},"rlimits":[)json"
    R"json({"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},"root")json"
    R"json(:{"path":"rootfs","readonly":true},"hostname":"runc","mounts":[{"destination":"/)json"
    R"json(proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","sourc)json"
    R"json(e":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},{"destin)json"
    R"json(ation":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec")json"
    R"json(,"newinstance","ptmxmode=0666","mode=0620"]},{"destination":"/dev/shm","type":"t)json"
    R"json(mpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=6553)json"
    R"json(6k"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":[)json"
    R"json("nosuid","noexec","nodev"]},{"destination":"/sys","type":"none","source":"/sys",)json"
    R"json("options":["rbind","nosuid","noexec","nodev","ro"]},{"destination":"/sys/fs/cgro)json"
    R"json(up","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","rela)json"
    R"json(time","ro"]}],"linux":{"uidMappings":[{"containerID":0,"hostID":0,"size":1}],"gi)json"
    R"json(dMappings":[{"containerID":0,"hostID":0,"size":1}],"namespaces":[{"type":"pid"},)json"
    R"json({"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"user"}],"maskedPaths":[")json"
    R"json(/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/pr)json"
    R"json(oc/timer_list","/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/sc)json"
    R"json(si"],"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysr)json"
    R"json(q-trigger"]}})json";

// Every field of the spec set once (1.0 to 1.3, Linux and generic).
constexpr const char* kFullSpec = R"json({
  "ociVersion": "1.3.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6], "username": "u"},
    "args": ["/bin/sh", "-c", "true"],
    "commandLine": "sh -c true",
    "env": ["PATH=/bin", "EMPTY="],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_KILL", "CAP_CHOWN"],
      "effective": ["CAP_KILL"],
      "inheritable": ["CAP_SETPCAP"],
      "permitted": ["CAP_KILL", "CAP_CHOWN"],
      "ambient": ["CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "noNewPrivileges": true,
    "apparmorProfile": "profile",
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "oomScoreAdj": -500,
    "scheduler": {"policy": "SCHED_FIFO", "priority": 10, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "execCPUAffinity": {"initial": "0-1, 3", "final": "1"}
  },
  "root": {"path": "/var/lib/rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]}
  ],
  "hooks": {
    "prestart": [{"path": "/bin/pre", "args": ["pre", "a"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/bin/cr"}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps"}],
    "poststop": [{"path": "/bin/pst"}, {"path": "/bin/pst2"}]
  },
  "annotations": {"org.example.key": "value"},
  "linux": {
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
    "sysctl": {
      "net.ipv4.ip_forward": "1",
      "net/ipv4/conf/eth0.100/rp_filter": "0",
      "kernel.shmmax": "4096",
      "kernel.msgmax": "8192",
      "kernel.sem": "250 32000 100 128",
      "fs.mqueue.msg_max": "10",
      "kernel.domainname": "example.org"
    },
    "resources": {
      "devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}
      ],
      "memory": {"limit": 536870912, "reservation": 268435456, "swap": -1, "kernel": -1,
                 "kernelTCP": 1048576, "swappiness": 60, "disableOOMKiller": true,
                 "useHierarchy": true, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": 100000, "burst": 50000, "period": 100000,
              "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1",
              "mems": "0", "idle": 1},
      "pids": {"limit": 32771},
      "blockIO": {
        "weight": 500, "leafWeight": 300,
        "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300},
                         {"major": 8, "minor": 16, "leafWeight": 100}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 700}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 800}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]
      },
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200},
                         {"pageSize": "1GB", "limit": 9223372036854772000}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "rxe3": {"hcaObjects": 5}},
      "unified": {"io.max": "259:0 rbps=2097152", "memory.high": "max"}
    },
    "cgroupsPath": "/berth/full",
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/var/run/netns/full"}, {"type": "mount"},
      {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
    ],
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438,
       "uid": 0, "gid": 0},
      {"type": "p", "path": "/dev/myfifo"}
    ],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      "listenerPath": "/run/agent.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 255, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"}
      ]
    },
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32", "flags": []},
    "timeOffsets": {"monotonic": {"secs": -3600, "nanosecs": 5}, "boottime": {"secs": 86400}},
    "intelRdt": {"closID": "guaranteed"},
    "memoryPolicy": {"mode": "MPOL_INTERLEAVE", "nodes": "0-1"},
    "netDevices": {"eth1": {"name": "ceth1"}}
  }
})json";

TEST(OciSpec, FullSpecProcess) {
    auto r = parse_spec(kFullSpec);
    ASSERT_OK(r);
    const Spec& s = *r;
    EXPECT_EQ(s.oci_version, "1.3.0");
    ASSERT_TRUE(s.process);
    const Process& p = *s.process;
    EXPECT_TRUE(p.terminal);
    ASSERT_TRUE(p.console_size);
    EXPECT_EQ(p.console_size->height, 24u);
    EXPECT_EQ(p.console_size->width, 80u);
    EXPECT_EQ(p.user.uid, 1000u);
    EXPECT_EQ(p.user.gid, 1001u);
    EXPECT_EQ(p.user.umask, 18u);
    EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6}));
    EXPECT_EQ(p.user.username, "u");
    EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "true"}));
    EXPECT_EQ(p.command_line, "sh -c true");
    EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/bin", "EMPTY="}));
    EXPECT_EQ(p.cwd, "/work");
    ASSERT_TRUE(p.capabilities);
    EXPECT_EQ(p.capabilities->bounding, (std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"}));
    EXPECT_EQ(p.capabilities->effective, (std::vector<std::string>{"CAP_KILL"}));
    EXPECT_EQ(p.capabilities->inheritable, (std::vector<std::string>{"CAP_SETPCAP"}));
    EXPECT_EQ(p.capabilities->permitted.size(), 2u);
    EXPECT_EQ(p.capabilities->ambient, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
    ASSERT_EQ(p.rlimits.size(), 2u);
    EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
    EXPECT_EQ(p.rlimits[0].hard, 4096u);
    EXPECT_EQ(p.rlimits[0].soft, 1024u);
    EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
    EXPECT_TRUE(p.no_new_privileges);
    EXPECT_EQ(p.apparmor_profile, "profile");
    EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
    EXPECT_EQ(p.oom_score_adj, -500);
    ASSERT_TRUE(p.scheduler);
    EXPECT_EQ(p.scheduler->policy, "SCHED_FIFO");
    EXPECT_EQ(p.scheduler->priority, 10);
    EXPECT_EQ(p.scheduler->flags, (std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"}));
    ASSERT_TRUE(p.io_priority);
    EXPECT_EQ(p.io_priority->io_class, "IOPRIO_CLASS_BE");
    EXPECT_EQ(p.io_priority->priority, 4);
    EXPECT_EQ(p.exec_cpu_affinity_initial, "0-1, 3");
    EXPECT_EQ(p.exec_cpu_affinity_final, "1");
}

TEST(OciSpec, FullSpecGeneric) {
    auto r = parse_spec(kFullSpec);
    ASSERT_OK(r);
    const Spec& s = *r;
    EXPECT_EQ(s.root.path, "/var/lib/rootfs");
    EXPECT_TRUE(s.root.readonly);
    EXPECT_EQ(s.hostname, "box");
    EXPECT_EQ(s.domainname, "example.org");
    ASSERT_EQ(s.mounts.size(), 2u);
    EXPECT_EQ(s.mounts[0].destination, "/proc");
    EXPECT_EQ(s.mounts[0].type, "proc");
    EXPECT_EQ(s.mounts[0].source, "proc");
    EXPECT_TRUE(s.mounts[0].options.empty());
    EXPECT_EQ(s.mounts[1].options, (std::vector<std::string>{"rbind", "ro"}));
    ASSERT_EQ(s.mounts[1].uid_mappings.size(), 1u);
    EXPECT_EQ(s.mounts[1].uid_mappings[0].host_id, 100000u);
    EXPECT_EQ(s.mounts[1].uid_mappings[0].size, 65536u);
    ASSERT_EQ(s.mounts[1].gid_mappings.size(), 1u);
    EXPECT_EQ(s.mounts[1].gid_mappings[0].host_id, 200000u);

    ASSERT_EQ(s.hooks.prestart.size(), 1u);
    EXPECT_EQ(s.hooks.prestart[0].path, "/bin/pre");
    EXPECT_EQ(s.hooks.prestart[0].args, (std::vector<std::string>{"pre", "a"}));
    EXPECT_EQ(s.hooks.prestart[0].env, (std::vector<std::string>{"A=1"}));
    EXPECT_EQ(s.hooks.prestart[0].timeout, 5);
    EXPECT_EQ(s.hooks.create_runtime.at(0).path, "/bin/cr");
    EXPECT_EQ(s.hooks.create_container.at(0).path, "/bin/cc");
    EXPECT_EQ(s.hooks.start_container.at(0).path, "/bin/sc");
    EXPECT_EQ(s.hooks.poststart.at(0).path, "/bin/ps");
    EXPECT_EQ(s.hooks.poststop.size(), 2u);
    EXPECT_FALSE(s.hooks.poststop[0].timeout);
    EXPECT_EQ(s.annotations.at("org.example.key"), "value");
}

TEST(OciSpec, FullSpecLinux) {
    auto r = parse_spec(kFullSpec);
    ASSERT_OK(r);
    ASSERT_TRUE(r->linux);
    const Linux& lx = *r->linux;
    ASSERT_EQ(lx.uid_mappings.size(), 1u);
    EXPECT_EQ(lx.uid_mappings[0].container_id, 0u);
    EXPECT_EQ(lx.uid_mappings[0].host_id, 100000u);
    EXPECT_EQ(lx.gid_mappings.at(0).host_id, 200000u);
    EXPECT_EQ(lx.sysctl.size(), 7u);
    EXPECT_EQ(lx.sysctl.at("kernel.sem"), "250 32000 100 128");
    EXPECT_EQ(lx.cgroups_path, "/berth/full");
    ASSERT_EQ(lx.namespaces.size(), 8u);
    EXPECT_EQ(lx.namespaces[1].type, "network");
    EXPECT_EQ(lx.namespaces[1].path, "/var/run/netns/full");
    EXPECT_TRUE(r->has_namespace("time"));
    EXPECT_EQ(r->find_namespace("network")->path, "/var/run/netns/full");
    EXPECT_EQ(r->find_namespace("nope"), nullptr);

    ASSERT_EQ(lx.devices.size(), 2u);
    EXPECT_EQ(lx.devices[0].type, "c");
    EXPECT_EQ(lx.devices[0].major, 10);
    EXPECT_EQ(lx.devices[0].minor, 229);
    EXPECT_EQ(lx.devices[0].file_mode, 438u);
    EXPECT_EQ(lx.devices[0].uid, 0u);
    EXPECT_EQ(lx.devices[0].gid, 0u);
    EXPECT_EQ(lx.devices[1].type, "p");
    EXPECT_FALSE(lx.devices[1].file_mode);

    ASSERT_TRUE(lx.seccomp);
    const Seccomp& sc = *lx.seccomp;
    EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
    EXPECT_EQ(sc.default_errno_ret, 38u);
    EXPECT_EQ(sc.architectures.size(), 2u);
    EXPECT_EQ(sc.flags.size(), 2u);
    EXPECT_EQ(sc.listener_path, "/run/agent.sock");
    EXPECT_EQ(sc.listener_metadata, "meta");
    ASSERT_EQ(sc.syscalls.size(), 4u);
    EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
    ASSERT_EQ(sc.syscalls[1].args.size(), 2u);
    EXPECT_EQ(sc.syscalls[1].args[1].index, 1u);
    EXPECT_EQ(sc.syscalls[1].args[1].value, 255u);
    EXPECT_EQ(sc.syscalls[1].args[1].value_two, 4u);
    EXPECT_EQ(sc.syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ");
    EXPECT_EQ(sc.syscalls[2].errno_ret, 1u);
    EXPECT_EQ(sc.syscalls[3].action, "SCMP_ACT_NOTIFY");

    EXPECT_EQ(lx.rootfs_propagation, "rslave");
    EXPECT_EQ(lx.masked_paths, (std::vector<std::string>{"/proc/kcore"}));
    EXPECT_EQ(lx.readonly_paths, (std::vector<std::string>{"/proc/sys"}));
    EXPECT_EQ(lx.mount_label, "system_u:object_r:container_file_t:s0");
    ASSERT_TRUE(lx.personality);
    EXPECT_EQ(lx.personality->domain, "LINUX32");
    EXPECT_EQ(lx.time_offsets.at("monotonic").secs, -3600);
    EXPECT_EQ(lx.time_offsets.at("monotonic").nanosecs, 5u);
    EXPECT_EQ(lx.time_offsets.at("boottime").secs, 86400);
    EXPECT_TRUE(lx.has_intel_rdt);
    EXPECT_TRUE(lx.has_memory_policy);
    EXPECT_TRUE(lx.has_net_devices);
}

TEST(OciSpec, FullSpecResources) {
    auto r = parse_spec(kFullSpec);
    ASSERT_OK(r);
    ASSERT_TRUE(r->linux && r->linux->resources);
    const Resources& res = *r->linux->resources;
    ASSERT_EQ(res.devices.size(), 2u);
    EXPECT_FALSE(res.devices[0].allow);
    EXPECT_EQ(res.devices[0].type, "");
    EXPECT_FALSE(res.devices[0].major);
    EXPECT_EQ(res.devices[0].access, "rwm");
    EXPECT_TRUE(res.devices[1].allow);
    EXPECT_EQ(res.devices[1].major, 10);
    EXPECT_EQ(res.devices[1].minor, 229);

    ASSERT_TRUE(res.memory);
    EXPECT_EQ(res.memory->limit, 536870912);
    EXPECT_EQ(res.memory->reservation, 268435456);
    EXPECT_EQ(res.memory->swap, -1);
    EXPECT_EQ(res.memory->kernel, -1);
    EXPECT_EQ(res.memory->kernel_tcp, 1048576);
    EXPECT_EQ(res.memory->swappiness, 60u);
    EXPECT_EQ(res.memory->disable_oom_killer, true);
    EXPECT_EQ(res.memory->use_hierarchy, true);
    EXPECT_EQ(res.memory->check_before_update, true);

    ASSERT_TRUE(res.cpu);
    EXPECT_EQ(res.cpu->shares, 1024u);
    EXPECT_EQ(res.cpu->quota, 100000);
    EXPECT_EQ(res.cpu->burst, 50000u);
    EXPECT_EQ(res.cpu->period, 100000u);
    EXPECT_EQ(res.cpu->realtime_runtime, 950000);
    EXPECT_EQ(res.cpu->realtime_period, 1000000u);
    EXPECT_EQ(res.cpu->cpus, "0-1");
    EXPECT_EQ(res.cpu->mems, "0");
    EXPECT_EQ(res.cpu->idle, true);
    EXPECT_EQ(res.pids_limit, 32771);

    ASSERT_TRUE(res.block_io);
    const BlockIoResources& io = *res.block_io;
    EXPECT_EQ(io.weight, 500);
    EXPECT_EQ(io.leaf_weight, 300);
    ASSERT_EQ(io.weight_device.size(), 2u);
    EXPECT_EQ(io.weight_device[0].leaf_weight, 300);
    EXPECT_FALSE(io.weight_device[1].weight);
    EXPECT_EQ(io.weight_device[1].minor, 16);
    EXPECT_EQ(io.throttle_read_bps.at(0).rate, 600u);
    EXPECT_EQ(io.throttle_write_bps.at(0).rate, 700u);
    EXPECT_EQ(io.throttle_read_iops.at(0).rate, 800u);
    EXPECT_EQ(io.throttle_write_iops.at(0).rate, 300u);

    ASSERT_EQ(res.hugepage_limits.size(), 2u);
    EXPECT_EQ(res.hugepage_limits[0].page_size, "2MB");
    EXPECT_EQ(res.hugepage_limits[0].limit, 209715200u);
    EXPECT_EQ(res.hugepage_limits[1].limit, 9223372036854772000u);
    ASSERT_TRUE(res.network);
    EXPECT_EQ(res.network->class_id, 1048577u);
    EXPECT_EQ(res.network->priorities.at(0).name, "eth0");
    EXPECT_EQ(res.network->priorities.at(0).priority, 500u);
    EXPECT_EQ(res.rdma.at("mlx5_1").hca_handles, 3u);
    EXPECT_EQ(res.rdma.at("mlx5_1").hca_objects, 10000u);
    EXPECT_FALSE(res.rdma.at("rxe3").hca_handles);
    EXPECT_EQ(res.unified.at("memory.high"), "max");
}

TEST(OciSpec, MinimalSpecHasDefaults) {
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})");
    ASSERT_OK(r);
    EXPECT_FALSE(r->process);
    EXPECT_FALSE(r->linux);
    EXPECT_FALSE(r->root.readonly);
    EXPECT_TRUE(r->mounts.empty());
    EXPECT_FALSE(r->has_namespace("pid"));
}

TEST(OciSpec, UnknownFieldsAndNullsAreIgnored) {
    auto r = parse_spec(R"({
        "ociVersion": "1.1.0", "root": {"path": "r", "extra": 1}, "windows": {"x": 1},
        "vm": {"kernel": {"path": "/k"}}, "solaris": [], "x-vendor": {"deep": [1, 2]},
        "hostname": null, "mounts": null, "annotations": null,
        "process": {"args": ["a"], "cwd": "/", "futureField": true, "env": null, "user": null},
        "linux": {"resources": {"oomScoreAdj": 5, "memory": {"limit": null}}, "future": "x"}
    })");
    ASSERT_OK(r);
    EXPECT_EQ(r->hostname, "");
    ASSERT_TRUE(r->linux && r->linux->resources && r->linux->resources->memory);
    EXPECT_FALSE(r->linux->resources->memory->limit);
}

TEST(OciSpec, VersionsAccepted) {
    for (const char* v :
         {"1.0.0", "1.0.2-dev", "1.0.0-rc5", "1.1.0", "1.2.1", "1.3.0", "1.3.7+build.1"}) {
        std::string doc = std::string(R"({"ociVersion": ")") + v + R"(", "root": {"path": "r"}})";
        auto r = parse_spec(doc);
        EXPECT_TRUE(r.ok()) << v << ": " << r.error().what();
    }
}

TEST(OciSpec, SysctlsAllowedByNamespace) {
    // net.* is fine in a joined network namespace too; the host's is the only one refused.
    auto r = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "r"},
        "linux": {"namespaces": [{"type": "network", "path": "/run/netns/a"}],
                  "sysctl": {"net.core.somaxconn": "256"}}})");
    ASSERT_OK(r);
}

TEST(OciSpec, RuncSpecOutputParses) {
    auto r = parse_spec(kRuncSpec);
    ASSERT_OK(r);
    EXPECT_EQ(r->oci_version, "1.0.2-dev");
    EXPECT_EQ(r->hostname, "runc");
    EXPECT_EQ(r->process->args, (std::vector<std::string>{"sh"}));
    EXPECT_EQ(r->mounts.size(), 7u);
    EXPECT_EQ(r->linux->namespaces.size(), 5u);
    EXPECT_EQ(r->linux->masked_paths.size(), 10u);
    ASSERT_EQ(r->linux->resources->devices.size(), 1u);
    EXPECT_EQ(r->linux->resources->devices[0].access, "rwm");

    auto rootless = parse_spec(kRuncRootlessSpec);
    ASSERT_OK(rootless);
    EXPECT_TRUE(rootless->has_namespace("user"));
    EXPECT_FALSE(rootless->has_namespace("network"));
}

TEST(OciSpec, DefaultSpecRoundTrips) {
    auto r = parse_spec(default_spec_json(false));
    ASSERT_OK(r);
    const Spec& s = *r;
    EXPECT_EQ(s.hostname, "berth");
    EXPECT_EQ(s.root.path, "rootfs");
    EXPECT_TRUE(s.root.readonly);
    ASSERT_TRUE(s.process);
    EXPECT_EQ(s.process->args, (std::vector<std::string>{"sh"}));
    EXPECT_TRUE(s.process->terminal);
    EXPECT_TRUE(s.process->no_new_privileges);
    EXPECT_EQ(s.process->env.size(), 2u);
    EXPECT_EQ(s.process->capabilities->bounding.size(), 3u);
    EXPECT_EQ(s.process->rlimits.at(0).type, "RLIMIT_NOFILE");
    EXPECT_EQ(s.mounts.size(), 7u);
    for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
        EXPECT_TRUE(s.has_namespace(ns)) << ns;
    }
    EXPECT_FALSE(s.has_namespace("user"));
    EXPECT_EQ(s.linux->readonly_paths.size(), 5u);
    EXPECT_GE(s.linux->masked_paths.size(), 10u);
    EXPECT_EQ(s.linux->resources->devices.size(), 1u);
}

TEST(OciSpec, RootlessDefaultSpecRoundTrips) {
    auto r = parse_spec(default_spec_json(true));
    ASSERT_OK(r);
    EXPECT_TRUE(r->has_namespace("user"));
    EXPECT_FALSE(r->has_namespace("network"));
    ASSERT_EQ(r->linux->uid_mappings.size(), 1u);
    EXPECT_EQ(r->linux->uid_mappings[0].host_id, geteuid());
    EXPECT_EQ(r->linux->uid_mappings[0].size, 1u);
    EXPECT_EQ(r->linux->gid_mappings.at(0).host_id, getegid());
    EXPECT_FALSE(r->linux->resources);
    for (const Mount& m : r->mounts) {
        if (m.destination == "/sys") {
            EXPECT_EQ(m.source, "/sys");
        }
    }
}

TEST(OciSpec, ParseProcessAlone) {
    auto r = parse_process(R"({"args": ["ls", "-l"], "cwd": "/tmp", "env": ["A=b"],
                               "user": {"uid": 5, "gid": 6}, "terminal": false})");
    ASSERT_OK(r);
    EXPECT_EQ(r->args, (std::vector<std::string>{"ls", "-l"}));
    EXPECT_EQ(r->cwd, "/tmp");
    EXPECT_EQ(r->user.uid, 5u);

    auto bad = parse_process(R"({"args": ["ls"], "cwd": "tmp"})");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().errno_value(), EINVAL);
    EXPECT_NE(bad.error().message().find("process.cwd: must be an absolute path"),
              std::string::npos)
        << bad.error().message();

    auto junk = parse_process("{");
    ASSERT_FALSE(junk.ok());
    EXPECT_EQ(junk.error().message().rfind("process.json: parse error at byte", 0), 0u)
        << junk.error().message();
}

TEST(OciSpec, ParseResourcesAlone) {
    auto r = parse_resources(R"({"memory": {"limit": 1048576}, "pids": {"limit": 10},
                                 "cpu": {"quota": -1, "period": 100000}})");
    ASSERT_OK(r);
    EXPECT_EQ(r->memory->limit, 1048576);
    EXPECT_EQ(r->pids_limit, 10);
    EXPECT_EQ(r->cpu->quota, -1);

    auto bad = parse_resources(R"({"memory": {"limit": "1G"}})");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "resources.memory.limit: expected an integer, got string");
    auto arr = parse_resources("[]");
    ASSERT_FALSE(arr.ok());
    EXPECT_EQ(arr.error().message(), "resources.json: expected a JSON object, got array");
}

TEST(OciSpec, ProcessToJsonRoundTrips) {
    auto full = parse_spec(kFullSpec);
    ASSERT_OK(full);
    std::string text = to_json(*full->process);
    auto again = parse_process(text);
    ASSERT_OK(again);
    EXPECT_EQ(to_json(*again), text);
    EXPECT_EQ(again->user.umask, 18u);
    EXPECT_EQ(again->rlimits.at(1).hard, UINT64_MAX);
    EXPECT_EQ(again->scheduler->flags.size(), 1u);
    EXPECT_EQ(again->exec_cpu_affinity_initial, "0-1, 3");

    Process minimal;
    minimal.args = {"true"};
    auto m = parse_process(to_json(minimal));
    ASSERT_OK(m);
    EXPECT_EQ(m->cwd, "/");
    EXPECT_FALSE(m->capabilities);
}

}  // namespace
}  // namespace berth::oci
