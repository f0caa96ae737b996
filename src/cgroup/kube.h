// Kubernetes requests and limits turned into cgroup values the way kubelet turns them
// (pkg/kubelet/cm/helpers_linux.go, kuberuntime_container_linux.go), the Quantity strings they
// are written in (apimachinery's resource.Quantity), the QoS class, and the CPU count a program
// in the container should size itself to (the automaxprocs rule).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::cgroup::kube {

// kubelet's constants (the kernel's bounds for cpu.shares and the CFS quota).
inline constexpr uint64_t kMinShares = 2;
inline constexpr uint64_t kMaxShares = 262144;
inline constexpr int64_t kSharesPerCpu = 1024;
inline constexpr int64_t kMilliCpuToCpu = 1000;
inline constexpr uint64_t kQuotaPeriodUs = 100000;  // 100 ms
inline constexpr int64_t kMinQuotaPeriodUs = 1000;  // 1 ms

// A resource.Quantity. apimachinery keeps every value on a nano grid (finer inputs are rounded
// up, away from zero), so the exact value is an integer count of nano-units.
class Quantity {
  public:
    enum class Format { DecimalSI, BinarySI, DecimalExponent };

    Quantity() = default;
    Quantity(__int128 nanos, Format f) : nanos_(nanos), format_(f) {}

    __int128 nanos() const { return nanos_; }
    Format format() const { return format_; }
    bool is_zero() const { return nanos_ == 0; }
    int sign() const { return nanos_ > 0 ? 1 : nanos_ < 0 ? -1 : 0; }
    // Value() and MilliValue(): rounded up (away from zero); ERANGE when beyond int64.
    Result<int64_t> value() const;
    Result<int64_t> milli_value() const;
    // Add(); ERANGE on overflow.
    Result<Quantity> plus(const Quantity& o) const;

    friend bool operator==(const Quantity& a, const Quantity& b) { return a.nanos_ == b.nanos_; }
    friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
        return a.nanos_ <=> b.nanos_;
    }

  private:
    __int128 nanos_ = 0;
    Format format_ = Format::DecimalSI;
};

// resource.ParseQuantity: [+-]digits[.digits] then a suffix: Ki Mi Gi Ti Pi Ei (binary);
// n u m "" k M G T P E (decimal); e<int> or E<int> (exponent). BinarySI values are capped at
// 2^63-1 as apimachinery caps them; decimal values too large for this representation (about
// 1.7e29) are ERANGE.
Result<Quantity> parse_quantity(std::string_view s);

// MilliCPUToShares: milliCPU*1024/1000 clamped to [2, 262144]; 0 (no request) gives 2.
uint64_t milli_cpu_to_shares(int64_t milli_cpu);
// MilliCPUToQuota: milliCPU*period/1000 with a 1 ms floor; 0 (no limit) gives 0.
int64_t milli_cpu_to_quota(int64_t milli_cpu, uint64_t period_us);

// One container's resources. Unset and zero are different for the QoS rules only where the
// Kubernetes code makes them different (it ignores zero quantities).
struct ContainerResources {
    std::optional<Quantity> cpu_request, cpu_limit, memory_request, memory_limit;
};
// From Quantity strings; "" leaves the field unset. Errors name the field.
Result<ContainerResources> container_resources(std::string_view cpu_request,
                                               std::string_view cpu_limit,
                                               std::string_view memory_request,
                                               std::string_view memory_limit);

struct KubeletOptions {
    uint64_t cpu_period_us = kQuotaPeriodUs;  // --cpu-cfs-quota-period (CPUCFSQuotaPeriod gate)
    bool enforce_cpu_limits = true;           // --cpu-cfs-quota
};

// The cgroup values for a container or a pod, as v1 values with their v2 spellings.
struct CgroupConfig {
    uint64_t cpu_shares = kMinShares;
    std::optional<int64_t> cpu_quota;     // µs; -1: no limit
    std::optional<uint64_t> cpu_period;   // µs
    std::optional<int64_t> memory_limit;  // bytes

    // cpu.weight from the shares (cpu_shares_to_weight, 1024 -> 100).
    uint64_t cpu_weight() const;
    // cpu.max: "<quota> <period>" or "max <period>"; nullopt when no quota is set.
    std::optional<std::string> cpu_max() const;
    // memory.max: the limit in bytes; nullopt when none.
    std::optional<std::string> memory_max() const;
    // linux.resources with cpu.shares, quota, period and memory.limit.
    oci::Resources to_oci() const;
};

// A container's values as kubelet sends them to the runtime: shares from the request (from the
// limit when only a limit is given), quota from the limit (-1 without one or when limits are
// not enforced), the period always, the memory limit when one is set.
Result<CgroupConfig> container_config(const ContainerResources& c, const KubeletOptions& o = {});

enum class QosClass { Guaranteed, Burstable, BestEffort };
const char* qos_class_name(QosClass q);

// ComputePodQOS over the app and init containers. Requests default to limits where only a
// limit is given, as the API server defaults them before kubelet ever sees the pod.
Result<QosClass> pod_qos(const std::vector<ContainerResources>& containers,
                         const std::vector<ContainerResources>& init_containers = {});

// ResourceConfigForPod: the pod-level cgroup. Requests and limits are the larger of the app
// containers' sum and any init container's (restartable sidecars and pod overhead are not
// modelled). Guaranteed gets everything; Burstable the shares, plus the quota when every app
// container has a CPU limit and the memory limit when every one has a memory limit;
// BestEffort 2 shares only.
Result<CgroupConfig> pod_config(const std::vector<ContainerResources>& containers,
                                const std::vector<ContainerResources>& init_containers = {},
                                const KubeletOptions& o = {});

// The CPU count a program should size its thread pools to (automaxprocs with its default floor
// rounding and minimum of 1): floor(quota/period), at least 1, capped by the cpuset's CPUs when
// one is given (cpuset_cpus > 0). Without a quota (nullopt or negative): the cpuset's CPUs, or
// the host's.
unsigned effective_cpus(std::optional<int64_t> quota_us, uint64_t period_us, unsigned cpuset_cpus,
                        unsigned host_cpus);

struct CpuMax {
    int64_t quota_us = -1;  // -1: "max"
    uint64_t period_us = kQuotaPeriodUs;
};
// cgroup v2 cpu.max: "max 100000", "250000 100000", or a quota alone (period 100000).
Result<CpuMax> parse_cpu_max(std::string_view text);
// The number of CPUs in a cpuset list ("0-3,8,10-11"); "" is 0.
Result<unsigned> count_cpu_list(std::string_view list);
// effective_cpus() for a cgroup2 directory: cpu.max and cpuset.cpus.effective there (missing
// files mean no limit), the host's online CPUs otherwise.
Result<unsigned> effective_cpus_of_cgroup(const std::string& dir);

}  // namespace berth::cgroup::kube
