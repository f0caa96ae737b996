// Kubernetes resources to cgroup values: kubelet's own table values (helpers_linux_test.go),
// apimachinery's Quantity rules, the QoS classes and the automaxprocs CPU count.
#include <gtest/gtest.h>

#include "cgroup/kube.h"

namespace berth::cgroup::kube {
namespace {

int64_t value_of(std::string_view s) {
    auto q = parse_quantity(s);
    EXPECT_TRUE(q.ok()) << s << ": " << (q.ok() ? "" : q.error().what());
    if (!q.ok()) return INT64_MIN;
    auto v = q->value();
    EXPECT_TRUE(v.ok()) << s;
    return v.ok() ? *v : INT64_MIN;
}

int64_t milli_of(std::string_view s) {
    auto q = parse_quantity(s);
    EXPECT_TRUE(q.ok()) << s << ": " << (q.ok() ? "" : q.error().what());
    if (!q.ok()) return INT64_MIN;
    auto v = q->milli_value();
    EXPECT_TRUE(v.ok()) << s;
    return v.ok() ? *v : INT64_MIN;
}

TEST(CgroupKube, MilliCpuToSharesKubeletTable) {
    const std::pair<int64_t, uint64_t> table[] = {
        {0, 2},       {1, 2},           {2, 2},           {3, 3},           {5, 5},
        {10, 10},     {100, 102},       {200, 204},       {500, 512},       {1000, 1024},
        {2000, 2048}, {255999, 262142}, {256000, 262144}, {256001, 262144}, {1000000, 262144},
        {-1, 2},      {-1000000, 2},
    };
    for (auto [milli, shares] : table) EXPECT_EQ(milli_cpu_to_shares(milli), shares) << milli;
}

TEST(CgroupKube, MilliCpuToQuotaKubeletTable) {
    const std::pair<int64_t, int64_t> table[] = {
        {0, 0},       {5, 1000},    {9, 1000},      {10, 1000},
        {200, 20000}, {500, 50000}, {1000, 100000}, {1500, 150000},
    };
    for (auto [milli, quota] : table) EXPECT_EQ(milli_cpu_to_quota(milli, 100000), quota) << milli;
    // The tuned 5 ms period of TestResourceConfigForPod: 100m and 200m both hit the 1 ms floor.
    EXPECT_EQ(milli_cpu_to_quota(100, 5000), 1000);
    EXPECT_EQ(milli_cpu_to_quota(200, 5000), 1000);
    EXPECT_EQ(milli_cpu_to_quota(2000, 5000), 10000);
}

TEST(CgroupKube, QuantityValues) {
    // Decimal SI, binary SI and exponents; Value() and MilliValue() round up.
    EXPECT_EQ(value_of("0"), 0);
    EXPECT_EQ(value_of("1"), 1);
    EXPECT_EQ(milli_of("1"), 1000);
    EXPECT_EQ(milli_of("500m"), 500);
    EXPECT_EQ(milli_of("1.5"), 1500);
    EXPECT_EQ(milli_of("0.5"), 500);
    EXPECT_EQ(milli_of(".5"), 500);
    EXPECT_EQ(milli_of("2.0005"), 2001);
    EXPECT_EQ(milli_of("0.1m"), 1);
    EXPECT_EQ(milli_of("1n"), 1);
    EXPECT_EQ(milli_of("100u"), 1);
    EXPECT_EQ(value_of("1.5"), 2);
    EXPECT_EQ(value_of("128Mi"), 134217728);
    EXPECT_EQ(value_of("100Mi"), 104857600);
    EXPECT_EQ(value_of("200Mi"), 209715200);
    EXPECT_EQ(value_of("1Ki"), 1024);
    EXPECT_EQ(value_of("0.5Ki"), 512);
    EXPECT_EQ(value_of("1.1Ki"), 1127);  // 1126.4, rounded up
    EXPECT_EQ(value_of("1.5Gi"), 1610612736);
    EXPECT_EQ(value_of("1Ti"), 1099511627776);
    EXPECT_EQ(value_of("1Pi"), 1125899906842624);
    EXPECT_EQ(value_of("1Ei"), 1152921504606846976);
    EXPECT_EQ(value_of("1k"), 1000);
    EXPECT_EQ(value_of("100k"), 100000);
    EXPECT_EQ(value_of("1M"), 1000000);
    EXPECT_EQ(value_of("1G"), 1000000000);
    EXPECT_EQ(value_of("1.G"), 1000000000);
    EXPECT_EQ(value_of("1T"), 1000000000000);
    EXPECT_EQ(value_of("1P"), 1000000000000000);
    EXPECT_EQ(value_of("1E"), 1000000000000000000);
    EXPECT_EQ(value_of("1e3"), 1000);
    EXPECT_EQ(value_of("1E3"), 1000);
    EXPECT_EQ(value_of("1e+3"), 1000);
    EXPECT_EQ(milli_of("1e-3"), 1);
    EXPECT_EQ(value_of("12e6"), 12000000);
    EXPECT_EQ(value_of("-1"), -1);
    EXPECT_EQ(value_of("+1"), 1);
    EXPECT_EQ(milli_of("-0.1m"), -1);  // away from zero
    EXPECT_EQ(value_of("007"), 7);
    // BinarySI is capped at the int64 maximum; decimal is not.
    EXPECT_EQ(value_of("10Ei"), INT64_MAX);
    auto big = parse_quantity("10E");
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(big->value().error().errno_value(), ERANGE);
}

TEST(CgroupKube, QuantityFormats) {
    EXPECT_EQ(parse_quantity("1Mi")->format(), Quantity::Format::BinarySI);
    EXPECT_EQ(parse_quantity("1M")->format(), Quantity::Format::DecimalSI);
    EXPECT_EQ(parse_quantity("500m")->format(), Quantity::Format::DecimalSI);
    EXPECT_EQ(parse_quantity("1e3")->format(), Quantity::Format::DecimalExponent);
    EXPECT_TRUE(*parse_quantity("1k") == *parse_quantity("1e3"));
    EXPECT_TRUE(*parse_quantity("1000m") == *parse_quantity("1"));
    EXPECT_TRUE(*parse_quantity("1Ki") > *parse_quantity("1k"));
}

TEST(CgroupKube, QuantityErrors) {
    for (const char* bad : {"", "1K", "1ki", "1MI", "1.5.5", " 1", "1 ", "1e", "1e+", "1Mi5",
                            "1Ee3", "abc", "1b", "1i", "--1", "1e3.5", "0x10"}) {
        auto q = parse_quantity(bad);
        EXPECT_FALSE(q.ok()) << '"' << bad << '"';
        if (!q.ok()) {
            EXPECT_EQ(q.error().errno_value(), EINVAL) << bad;
        }
    }
    EXPECT_EQ(parse_quantity("1e40").error().errno_value(), ERANGE);
}

TEST(CgroupKube, ContainerConfig) {
    // requests 100m/100Mi, limits 200m/200Mi.
    auto c = container_resources("100m", "200m", "100Mi", "200Mi");
    ASSERT_TRUE(c.ok());
    auto cfg = container_config(*c);
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(cfg->cpu_shares, 102u);
    EXPECT_EQ(cfg->cpu_quota, 20000);
    EXPECT_EQ(cfg->cpu_period, 100000u);
    EXPECT_EQ(cfg->memory_limit, 209715200);
    EXPECT_EQ(cfg->cpu_max(), "20000 100000");
    EXPECT_EQ(cfg->memory_max(), "209715200");
    EXPECT_EQ(cfg->cpu_weight(), 17u);  // log-quadratic mapping of 102 shares
    oci::Resources r = cfg->to_oci();
    ASSERT_TRUE(r.cpu && r.memory);
    EXPECT_EQ(r.cpu->shares, 102u);
    EXPECT_EQ(r.cpu->quota, 20000);
    EXPECT_EQ(r.cpu->period, 100000u);
    EXPECT_EQ(r.memory->limit, 209715200);

    // No limits: the request's shares, no quota, no memory limit.
    cfg = container_config(*container_resources("250m", "", "64Mi", ""));
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(cfg->cpu_shares, 256u);
    EXPECT_EQ(cfg->cpu_quota, -1);
    EXPECT_EQ(cfg->cpu_max(), "max 100000");
    EXPECT_EQ(cfg->memory_limit, std::nullopt);
    EXPECT_EQ(cfg->memory_max(), std::nullopt);
    EXPECT_FALSE(cfg->to_oci().memory);

    // A limit alone: the request defaults to it.
    cfg = container_config(*container_resources("", "1.5", "", "1Gi"));
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(cfg->cpu_shares, 1536u);
    EXPECT_EQ(cfg->cpu_quota, 150000);
    EXPECT_EQ(cfg->memory_limit, 1073741824);

    // Nothing: 2 shares (weight 1), no quota.
    cfg = container_config({});
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(cfg->cpu_shares, 2u);
    EXPECT_EQ(cfg->cpu_weight(), 1u);
    EXPECT_EQ(cfg->cpu_quota, -1);

    // 1 CPU: 1024 shares, weight 100; 5m limit hits the 1 ms floor.
    cfg = container_config(*container_resources("1", "5m", "", ""));
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(cfg->cpu_weight(), 100u);
    EXPECT_EQ(cfg->cpu_quota, 1000);

    // --cpu-cfs-quota=false and a tuned period.
    KubeletOptions o;
    o.enforce_cpu_limits = false;
    o.cpu_period_us = 5000;
    cfg = container_config(*container_resources("100m", "200m", "", ""), o);
    ASSERT_TRUE(cfg.ok());
    EXPECT_EQ(cfg->cpu_quota, -1);
    EXPECT_EQ(cfg->cpu_period, 5000u);
    EXPECT_EQ(cfg->cpu_max(), "max 5000");

    auto bad = container_resources("1x", "", "", "");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message().rfind("requests.cpu: quantity `1x`", 0), 0u);
}

ContainerResources res(std::string_view cpu_req, std::string_view mem_req, std::string_view cpu_lim,
                       std::string_view mem_lim) {
    auto c = container_resources(cpu_req, cpu_lim, mem_req, mem_lim);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : ContainerResources{};
}

// kubelet's TestResourceConfigForPod (getResourceList(cpu, memory) for requests, then limits).
TEST(CgroupKube, PodConfigKubeletTable) {
    KubeletOptions def;
    KubeletOptions tuned;
    tuned.cpu_period_us = 5000;
    KubeletOptions no_enforce;
    no_enforce.enforce_cpu_limits = false;
    struct Case {
        const char* name;
        std::vector<ContainerResources> containers, init;
        KubeletOptions opts;
        uint64_t shares;
        std::optional<int64_t> quota;
        std::optional<uint64_t> period;
        std::optional<int64_t> memory;
    };
    const Case cases[] = {
        {"besteffort", {res("", "", "", "")}, {}, def, 2, {}, {}, {}},
        {"burstable-no-limits", {res("100m", "100Mi", "", "")}, {}, def, 102, {}, {}, {}},
        {"burstable-with-limits",
         {res("100m", "100Mi", "200m", "200Mi")},
         {},
         def,
         102,
         20000,
         100000,
         209715200},
        {"burstable-with-limits-no-cpu-enforcement",
         {res("100m", "100Mi", "200m", "200Mi")},
         {},
         no_enforce,
         102,
         -1,
         100000,
         209715200},
        {"burstable-partial-limits",
         {res("100m", "100Mi", "200m", "200Mi"), res("100m", "100Mi", "", "")},
         {},
         def,
         204,
         {},
         {},
         {}},
        {"burstable-with-limits-with-tuned-quota",
         {res("100m", "100Mi", "200m", "200Mi")},
         {},
         tuned,
         102,
         1000,
         5000,
         209715200},
        {"guaranteed",
         {res("100m", "100Mi", "100m", "100Mi")},
         {},
         def,
         102,
         10000,
         100000,
         104857600},
        {"guaranteed-no-cpu-enforcement",
         {res("100m", "100Mi", "100m", "100Mi")},
         {},
         no_enforce,
         102,
         -1,
         100000,
         104857600},
        {"guaranteed-with-tuned-quota",
         {res("100m", "100Mi", "100m", "100Mi")},
         {},
         tuned,
         102,
         1000,
         5000,
         104857600},
        {"burstable-partial-limits-with-init-containers",
         {res("100m", "100m", "100m", "100Mi"), res("100m", "100m", "", "")},
         {res("100m", "100m", "100m", "100Mi"), res("100m", "100m", "", "")},
         tuned,
         204,
         {},
         {},
         {}},
    };
    for (const Case& c : cases) {
        auto cfg = pod_config(c.containers, c.init, c.opts);
        ASSERT_TRUE(cfg.ok()) << c.name;
        EXPECT_EQ(cfg->cpu_shares, c.shares) << c.name;
        EXPECT_EQ(cfg->cpu_quota, c.quota) << c.name;
        EXPECT_EQ(cfg->cpu_period, c.period) << c.name;
        EXPECT_EQ(cfg->memory_limit, c.memory) << c.name;
    }
}

TEST(CgroupKube, QosClass) {
    auto qos = [](std::vector<ContainerResources> c, std::vector<ContainerResources> init = {}) {
        auto q = pod_qos(c, init);
        EXPECT_TRUE(q.ok());
        return q.ok() ? *q : QosClass::BestEffort;
    };
    EXPECT_EQ(qos({res("", "", "", "")}), QosClass::BestEffort);
    EXPECT_EQ(qos({res("", "", "", ""), res("", "", "", "")}), QosClass::BestEffort);
    // Zero quantities do not count.
    EXPECT_EQ(qos({res("0", "0", "", "")}), QosClass::BestEffort);
    EXPECT_EQ(qos({res("100m", "100Mi", "100m", "100Mi")}), QosClass::Guaranteed);
    EXPECT_EQ(qos({res("1", "1Gi", "1000m", "1024Mi")}), QosClass::Guaranteed);  // equal values
    // Limits alone: requests default to them.
    EXPECT_EQ(qos({res("", "", "100m", "100Mi")}), QosClass::Guaranteed);
    EXPECT_EQ(qos({res("100m", "100Mi", "100m", "100Mi"), res("1", "1Gi", "1", "1Gi")}),
              QosClass::Guaranteed);
    EXPECT_EQ(qos({res("100m", "100Mi", "100m", "100Mi"), res("", "", "", "")}),
              QosClass::Burstable);
    EXPECT_EQ(qos({res("100m", "", "", "")}), QosClass::Burstable);
    EXPECT_EQ(qos({res("100m", "100Mi", "200m", "100Mi")}), QosClass::Burstable);
    EXPECT_EQ(qos({res("", "", "100m", "")}), QosClass::Burstable);  // no memory limit
    // Init containers count too.
    EXPECT_EQ(qos({res("100m", "100Mi", "100m", "100Mi")}, {res("", "", "", "")}),
              QosClass::Burstable);
    EXPECT_EQ(qos({res("100m", "100Mi", "100m", "100Mi")}, {res("1", "1Mi", "1", "1Mi")}),
              QosClass::Guaranteed);
    EXPECT_STREQ(qos_class_name(QosClass::Burstable), "Burstable");
}

// automaxprocs: floor rounding, minimum 1 (its CPUQuotaToGOMAXPROCS and cgroup test data).
TEST(CgroupKube, EffectiveCpus) {
    EXPECT_EQ(effective_cpus(270000, 100000, 0, 8), 2u);  // 2.7 -> 2 (ceil would give 3)
    EXPECT_EQ(effective_cpus(250000, 100000, 0, 8), 2u);  // v2 "set": 2.5
    EXPECT_EQ(effective_cpus(500000, 100000, 0, 8), 5u);  // v2 "only-max"
    EXPECT_EQ(effective_cpus(600000, 100000, 0, 8), 6u);  // v1 "cpu"
    EXPECT_EQ(effective_cpus(50000, 100000, 0, 8), 1u);   // 0.5: the minimum
    EXPECT_EQ(effective_cpus(1000, 100000, 0, 8), 1u);
    EXPECT_EQ(effective_cpus(std::nullopt, 100000, 0, 8), 8u);  // no quota: the host
    EXPECT_EQ(effective_cpus(-1, 100000, 0, 8), 8u);            // "max"/-1 is no quota
    EXPECT_EQ(effective_cpus(600000, 100000, 2, 8), 2u);        // capped by the cpuset
    EXPECT_EQ(effective_cpus(std::nullopt, 100000, 3, 8), 3u);  // no quota: the cpuset
    EXPECT_EQ(effective_cpus(150000, 100000, 4, 8), 1u);
    EXPECT_EQ(effective_cpus(1600000, 100000, 0, 8), 8u);  // more quota than CPUs
}

TEST(CgroupKube, ParseCpuMax) {
    auto m = parse_cpu_max("250000 100000\n");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->quota_us, 250000);
    EXPECT_EQ(m->period_us, 100000u);
    m = parse_cpu_max("max 100000");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->quota_us, -1);
    m = parse_cpu_max("500000");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->quota_us, 500000);
    EXPECT_EQ(m->period_us, 100000u);
    for (const char* bad : {"", "asdf 100000", "250000 njn", "1 2 3", "250000 0"})
        EXPECT_FALSE(parse_cpu_max(bad).ok()) << bad;
}

TEST(CgroupKube, CountCpuList) {
    EXPECT_EQ(*count_cpu_list(""), 0u);
    EXPECT_EQ(*count_cpu_list("0\n"), 1u);
    EXPECT_EQ(*count_cpu_list("0-3"), 4u);
    EXPECT_EQ(*count_cpu_list("0-3,8,10-11"), 7u);
    EXPECT_FALSE(count_cpu_list("3-1").ok());
    EXPECT_FALSE(count_cpu_list("a").ok());
}

TEST(CgroupKube, EffectiveCpusOfCgroup) {
    char tmpl[] = "/tmp/berth-kube-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string dir = tmpl;
    auto write = [&](const char* name, const char* text) {
        FILE* f = ::fopen((dir + "/" + name).c_str(), "w");
        ASSERT_NE(f, nullptr);
        ::fputs(text, f);
        ::fclose(f);
    };
    write("cpu.max", "350000 100000\n");
    write("cpuset.cpus.effective", "0-1\n");
    auto n = effective_cpus_of_cgroup(dir);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 2u);
    write("cpuset.cpus.effective", "0-7\n");
    EXPECT_EQ(*effective_cpus_of_cgroup(dir), 3u);
    ::unlink((dir + "/cpu.max").c_str());
    ::unlink((dir + "/cpuset.cpus.effective").c_str());
    ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace berth::cgroup::kube
