// The cgroup v1 manager: one directory per mounted hierarchy (Legacy), plus the cgroup2 part
// in <root>/unified on Hybrid hosts, which it creates and joins too and where hugetlb and
// linux.resources.unified go when v1 has no home for them.
#pragma once

#include "cgroup/internal.h"

namespace berth::cgroup {

class V1Manager final : public Manager {
  public:
    explicit V1Manager(ManagerSetup setup) : s_(std::move(setup)) {}

    Result<void> create() override;
    Result<void> add_process(pid_t pid) override;
    Result<SelfJoin> open_self_join() const override;
    Result<void> add_process_unified(pid_t pid) override;
    Result<void> apply(const oci::Resources& r) override;
    Result<void> freeze() override;
    Result<void> thaw() override;
    Result<bool> frozen() override;
    Result<std::vector<pid_t>> pids() override;
    Result<Stats> stats() override;
    Result<void> destroy() override;
    std::vector<std::string> paths() const override;
    Layout layout() const override { return s_.layout; }
    std::string unified_path() const override { return s_.unified ? s_.unified->dir : ""; }
    bool has_controller(std::string_view controller) const override {
        return dir(controller) != nullptr || unified_offers(std::string(controller));
    }

  private:
    // The container's directory in the hierarchy holding controller, or nullptr.
    const std::string* dir(std::string_view controller) const;
    // Hybrid: whether the cgroup2 part's root offers controller.
    bool unified_offers(const std::string& controller) const;
    Result<void> init_cpuset(const std::string& mountpoint, const std::string& leaf) const;
    Result<void> set_freezer(const std::string& state);

    // v1_apply.cpp
    Result<void> apply_memory(const oci::MemoryResources& m);
    Result<void> apply_cpu(const oci::CpuResources& c);
    Result<void> apply_cpuset(const oci::CpuResources& c);
    Result<void> apply_pids(int64_t limit);
    Result<void> apply_blkio(const oci::BlockIoResources& b);
    Result<void> apply_hugetlb(const std::vector<oci::HugepageLimit>& limits);
    Result<void> apply_network(const oci::NetworkResources& n);
    Result<void> apply_devices(const std::vector<oci::DeviceCgroup>& rules);
    Result<void> apply_unified(const std::map<std::string, std::string>& unified);

    ManagerSetup s_;
};

}  // namespace berth::cgroup
