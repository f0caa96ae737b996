// A fake /sys/fs/cgroup in a temporary directory, with the mountinfo and /proc/self/cgroup
// that describe it, for the cgroup tests. Control files are ordinary files, so a test lays out
// what the kernel would create and reads back what the manager wrote; the write hook records
// the order of writes and plays the kernel refusing a value.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/file.h"
#include "base/strings.h"
#include "cgroup/manager.h"

namespace berth::cgroup::testing {

#define CG_ASSERT_OK(expr)                                                \
    do {                                                                  \
        auto&& cg_r_ = (expr);                                            \
        ASSERT_TRUE(cg_r_.ok()) << #expr << ": " << cg_r_.error().what(); \
    } while (0)
#define CG_EXPECT_OK(expr)                                                \
    do {                                                                  \
        auto&& cg_r_ = (expr);                                            \
        EXPECT_TRUE(cg_r_.ok()) << #expr << ": " << cg_r_.error().what(); \
    } while (0)

class FakeTree {
  public:
    FakeTree() {
        // tmpfs when there is one: these trees are hundreds of small files per test.
        std::string tmpl = (is_directory("/dev/shm") ? "/dev/shm" : "/tmp");
        tmpl += "/berth-cgtest-XXXXXX";
        base_ = ::mkdtemp(tmpl.data());
        root_ = base_ + "/cgroup";
        (void)mkdir_p(root_);
    }
    ~FakeTree() { (void)remove_all(base_); }
    FakeTree(const FakeTree&) = delete;
    FakeTree& operator=(const FakeTree&) = delete;

    const std::string& root() const { return root_; }
    std::string path(const std::string& rel) const { return path_join(root_, rel); }

    // Creates rel (below the mount root) holding content.
    void file(const std::string& rel, const std::string& content) {
        std::string p = path(rel);
        ASSERT_TRUE(mkdir_p(path_dirname(p)).ok());
        ASSERT_TRUE(write_file(p, content, true).ok()) << p;
    }
    void files(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& kv) {
        for (auto& [name, content] : kv) file(path_join(dir, name), content);
    }
    std::string read(const std::string& rel) const {
        auto r = read_file(path(rel));
        return r ? std::string(trim(*r)) : "<missing>";
    }
    bool exists(const std::string& rel) const { return path_exists(path(rel)); }

    // A v1 hierarchy at <root>/<dir> for controllers ("cpu,cpuacct", "name=systemd").
    void mount_v1(const std::string& dir, const std::string& controllers) {
        ++mounts_;
        mountinfo_ += std::to_string(30 + mounts_) + " 23 0:" + std::to_string(40 + mounts_) +
                      " / " + path(dir) + " rw,relatime - cgroup cgroup rw," + controllers + "\n";
        file(dir + "/cgroup.procs", "");
        std::string key = controllers;
        proc_cgroup_ += std::to_string(mounts_) + ":" + key + ":" + own_ + "\n";
        v1_dirs_[controllers] = dir;
    }
    // cgroup2 at <root>/<dir> ("" for the root itself) offering controllers.
    void mount_v2(const std::string& dir, const std::string& controllers) {
        std::string mp = dir.empty() ? root_ : path(dir);
        ++mounts_;
        mountinfo_ += std::to_string(30 + mounts_) + " 23 0:" + std::to_string(40 + mounts_) +
                      " / " + mp + " rw,relatime - cgroup2 cgroup2 rw\n";
        file(path_join(dir, "cgroup.controllers"), controllers);
        file(path_join(dir, "cgroup.subtree_control"), "");
        file(path_join(dir, "cgroup.procs"), "");
        proc_cgroup_ += "0::" + own_ + "\n";
    }
    // The caller's own cgroup, for relative cgroupsPath (set before mounting).
    void set_own_cgroup(const std::string& own) { own_ = own; }

    // The usual v1 host: this machine's layout (cpu and cpuacct apart) or the comounted one.
    void legacy(bool comounted = false) {
        if (comounted) {
            mount_v1("cpu,cpuacct", "cpu,cpuacct");
        } else {
            mount_v1("cpu", "cpu");
            mount_v1("cpuacct", "cpuacct");
        }
        mount_v1("cpuset", "cpuset");
        files("cpuset", {{"cpuset.cpus", "0-1\n"}, {"cpuset.mems", "0\n"}});
        for (const char* c : {"memory", "devices", "freezer", "blkio", "pids"}) mount_v1(c, c);
        mount_v1("systemd", "name=systemd");
    }
    void hybrid() {
        legacy();
        mount_v2("unified", "hugetlb");
    }
    void unified() { mount_v2("", "cpuset cpu io memory hugetlb pids rdma misc"); }

    Options options(const std::string& cgroups_path, const std::string& id = "c1") {
        file_abs(base_ + "/mountinfo", mountinfo_);
        file_abs(base_ + "/proc_cgroup", proc_cgroup_);
        Options o;
        o.cgroups_path = cgroups_path;
        o.id = id;
        o.mount_root = root_;
        o.proc_self_mountinfo = base_ + "/mountinfo";
        o.proc_self_cgroup = base_ + "/proc_cgroup";
        o.systemd_run_dir = base_ + "/run-systemd-system";
        o.rootless = false;  // the same behaviour whoever runs the tests; rootless tests set it
        o.write_hook = [this](const std::string& p, std::string_view value) {
            std::string rel = p.substr(root_.size() + 1);
            writes.emplace_back(rel, std::string(value));
            for (auto& [suffix, errs] : fail) {
                if (!errs.empty() && rel.size() >= suffix.size() &&
                    rel.compare(rel.size() - suffix.size(), suffix.size(), suffix) == 0) {
                    int e = errs.front();
                    errs.pop_front();
                    return e;
                }
            }
            return 0;
        };
        return o;
    }

    // The files the kernel creates in a new cgroup, for a v1 leaf at rel in each hierarchy.
    void populate_v1_leaf(const std::string& rel, bool memsw = true) {
        auto in = [&](const std::string& ctrl,
                      std::vector<std::pair<std::string, std::string>> kv) {
            auto it = v1_dirs_.find(ctrl);
            if (it == v1_dirs_.end()) return;
            kv.emplace_back("cgroup.procs", "");
            files(path_join(it->second, rel), kv);
        };
        std::string cpu = v1_dirs_.count("cpu") ? "cpu" : "cpu,cpuacct";
        in(cpu, {{"cpu.shares", "1024"},
                 {"cpu.cfs_quota_us", "-1"},
                 {"cpu.cfs_period_us", "100000"},
                 {"cpu.cfs_burst_us", "0"},
                 {"cpu.rt_period_us", "1000000"},
                 {"cpu.rt_runtime_us", "0"},
                 {"cpu.idle", "0"},
                 {"cpu.stat", ""}});
        in(v1_dirs_.count("cpuacct") ? "cpuacct" : "cpu,cpuacct",
           {{"cpuacct.usage", "0"}, {"cpuacct.usage_percpu", ""}, {"cpuacct.stat", ""}});
        std::vector<std::pair<std::string, std::string>> mem = {
            {"memory.limit_in_bytes", "9223372036854771712"},
            {"memory.soft_limit_in_bytes", "9223372036854771712"},
            {"memory.usage_in_bytes", "0"},
            {"memory.swappiness", "60"},
            {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
            {"memory.kmem.tcp.limit_in_bytes", "9223372036854771712"}};
        if (memsw) mem.emplace_back("memory.memsw.limit_in_bytes", "9223372036854771712");
        in("memory", mem);
        in("devices", {{"devices.allow", ""}, {"devices.deny", ""}, {"devices.list", "a *:* rwm"}});
        in("freezer", {{"freezer.state", "THAWED"}});
        in("blkio", {{"blkio.bfq.weight", "100"},
                     {"blkio.bfq.weight_device", ""},
                     {"blkio.throttle.read_bps_device", ""},
                     {"blkio.throttle.write_bps_device", ""},
                     {"blkio.throttle.read_iops_device", ""},
                     {"blkio.throttle.write_iops_device", ""}});
        in("pids", {{"pids.max", "max"}, {"pids.current", "0"}});
        in("cpuset", {{"cpuset.cpus", ""}, {"cpuset.mems", ""}});
        in("name=systemd", {});
    }

    // Writes made through the hook, as (path below the mount root, value).
    std::vector<std::pair<std::string, std::string>> writes;
    // Errnos to return, in turn, for writes whose path ends with the key.
    std::map<std::string, std::deque<int>> fail;

    // The values written to rel, in order.
    std::vector<std::string> writes_to(const std::string& rel) const {
        std::vector<std::string> out;
        for (auto& [p, v] : writes)
            if (p == rel) out.push_back(v);
        return out;
    }
    // Index of the first write to rel, or -1.
    int write_index(const std::string& rel) const {
        for (size_t i = 0; i < writes.size(); ++i)
            if (writes[i].first == rel) return static_cast<int>(i);
        return -1;
    }

  private:
    static void file_abs(const std::string& p, const std::string& content) {
        ASSERT_TRUE(write_file(p, content, true).ok()) << p;
    }

    std::string base_, root_;
    std::string mountinfo_, proc_cgroup_;
    std::string own_ = "/";
    int mounts_ = 0;
    std::map<std::string, std::string> v1_dirs_;
};

}  // namespace berth::cgroup::testing
