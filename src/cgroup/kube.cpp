#include "cgroup/kube.h"

#include <unistd.h>

#include <algorithm>
#include <limits>

#include "base/strings.h"
#include "cgroup/cgfile.h"
#include "cgroup/convert.h"

namespace berth::cgroup::kube {
namespace {

using u128 = unsigned __int128;
constexpr __int128 kNano = 1000000000;
constexpr __int128 kInt128Max = static_cast<__int128>(~static_cast<u128>(0) >> 1);

// A non-negative integer in base 1e9 limbs, least significant first: just enough arithmetic
// to scale a Quantity's digits by powers of 2 and 10 exactly.
struct BigNat {
    std::vector<uint32_t> limbs;

    bool zero() const { return limbs.empty(); }
    void trim() {
        while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
    }
    static BigNat from_digits(std::string_view digits) {
        BigNat n;
        for (size_t end = digits.size(); end > 0;) {
            size_t begin = end >= 9 ? end - 9 : 0;
            uint32_t limb = 0;
            for (size_t i = begin; i < end; ++i) limb = limb * 10 + (digits[i] - '0');
            n.limbs.push_back(limb);
            end = begin;
        }
        n.trim();
        return n;
    }
    void mul(uint32_t m) {
        uint64_t carry = 0;
        for (uint32_t& l : limbs) {
            uint64_t v = uint64_t(l) * m + carry;
            l = static_cast<uint32_t>(v % 1000000000);
            carry = v / 1000000000;
        }
        while (carry) {
            limbs.push_back(static_cast<uint32_t>(carry % 1000000000));
            carry /= 1000000000;
        }
    }
    // Divides in place; returns whether the remainder was non-zero.
    bool div(uint32_t d) {
        uint64_t rem = 0;
        for (size_t i = limbs.size(); i-- > 0;) {
            uint64_t v = rem * 1000000000 + limbs[i];
            limbs[i] = static_cast<uint32_t>(v / d);
            rem = v % d;
        }
        trim();
        return rem != 0;
    }
    // nullopt when it does not fit a signed 128-bit integer.
    std::optional<__int128> to_int128() const {
        u128 v = 0;
        for (size_t i = limbs.size(); i-- > 0;) {
            if (v > (static_cast<u128>(kInt128Max) - limbs[i]) / 1000000000) return std::nullopt;
            v = v * 1000000000 + limbs[i];
        }
        return static_cast<__int128>(v);
    }
};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

struct Suffix {
    int base = 10;  // 10 or 2
    int32_t exponent = 0;
    Quantity::Format format = Quantity::Format::DecimalSI;
};

// apimachinery's suffixer: the decimal and binary tables, then e<int>/E<int>.
std::optional<Suffix> interpret_suffix(std::string_view s) {
    static constexpr std::pair<std::string_view, int32_t> kDecimal[] = {
        {"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
        {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18},
    };
    static constexpr std::pair<std::string_view, int32_t> kBinary[] = {
        {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60},
    };
    for (auto [name, e] : kDecimal)
        if (s == name) return Suffix{10, e, Quantity::Format::DecimalSI};
    for (auto [name, e] : kBinary)
        if (s == name) return Suffix{2, e, Quantity::Format::BinarySI};
    if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
        // strconv.ParseInt(s[1:], 10, 64), then int32(...) as apimachinery converts it.
        std::string_view rest = s.substr(1);
        bool neg = false;
        if (rest[0] == '+' || rest[0] == '-') {
            neg = rest[0] == '-';
            rest.remove_prefix(1);
        }
        auto mag = parse_number<uint64_t>(rest);
        if (!mag || *mag > (neg ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1)) return std::nullopt;
        uint64_t bits = neg ? ~*mag + 1 : *mag;
        return Suffix{10, static_cast<int32_t>(static_cast<uint32_t>(bits)),
                      Quantity::Format::DecimalExponent};
    }
    return std::nullopt;
}

Error quantity_error(std::string_view s, std::string_view why) {
    return Error(EINVAL) << "quantity `" << s << "`: " << why;
}

// ceil(|nanos| / unit) with the sign put back: apimachinery rounds away from zero.
Result<int64_t> scaled(__int128 nanos, __int128 unit) {
    __int128 mag = nanos < 0 ? -nanos : nanos;
    __int128 q = mag / unit + (mag % unit != 0 ? 1 : 0);
    if (q > std::numeric_limits<int64_t>::max()) {
        if (!(nanos < 0 && q == static_cast<__int128>(std::numeric_limits<int64_t>::max()) + 1))
            return Error(ERANGE) << "quantity is out of the int64 range";
    }
    return static_cast<int64_t>(nanos < 0 ? -q : q);
}

}  // namespace

Result<int64_t> Quantity::value() const {
    return scaled(nanos_, kNano);
}
Result<int64_t> Quantity::milli_value() const {
    return scaled(nanos_, kNano / 1000);
}

Result<Quantity> Quantity::plus(const Quantity& o) const {
    __int128 sum;
    if (__builtin_add_overflow(nanos_, o.nanos_, &sum))
        return Error(ERANGE) << "quantity sum is out of range";
    return Quantity(sum, format_);
}

Result<Quantity> parse_quantity(std::string_view s) {
    if (s.empty()) return quantity_error(s, "empty");
    size_t pos = 0, end = s.size();
    bool negative = false;
    if (s[0] == '-' || s[0] == '+') {
        negative = s[0] == '-';
        ++pos;
    }
    while (pos < end && s[pos] == '0') ++pos;
    size_t num_begin = pos;
    while (pos < end && is_digit(s[pos])) ++pos;
    std::string_view num = s.substr(num_begin, pos - num_begin);
    std::string_view denom;
    if (pos < end && s[pos] == '.') {
        size_t d = ++pos;
        while (pos < end && is_digit(s[pos])) ++pos;
        denom = s.substr(d, pos - d);  // "1.G" is accepted, as apimachinery accepts it
    }
    size_t suffix_begin = pos;
    while (pos < end && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos)
        ++pos;
    if (pos < end && (s[pos] == '-' || s[pos] == '+')) ++pos;
    while (pos < end && is_digit(s[pos])) ++pos;
    if (pos != end)
        return quantity_error(s,
                              "quantities must match the regular expression "
                              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    auto suffix = interpret_suffix(s.substr(suffix_begin));
    if (!suffix) return quantity_error(s, "unable to parse quantity's suffix");

    // value = digits * 10^exp10 * 2^exp2, taken to nano-units and rounded up.
    std::string digits = std::string(num) + std::string(denom);
    BigNat n = BigNat::from_digits(digits);
    int64_t exp10 = 9 - static_cast<int64_t>(denom.size());
    if (suffix->base == 10) {
        exp10 += suffix->exponent;
    } else {
        for (int32_t e = suffix->exponent; e > 0; e -= 30)
            n.mul(uint32_t(1) << std::min<int32_t>(e, 30));
    }
    bool inexact = false;
    if (!n.zero() && exp10 > 0) {
        if (exp10 > 60) return Error(ERANGE) << "quantity `" << s << "` is too large";
        for (int64_t i = 0; i < exp10; ++i) n.mul(10);
    } else {
        for (int64_t i = 0; i < -exp10 && !n.zero(); ++i) inexact |= n.div(10);
    }
    std::optional<__int128> nanos = n.to_int128();
    if (nanos && inexact) {
        if (*nanos == kInt128Max)
            nanos.reset();
        else
            ++*nanos;
    }
    // Binary quantities are capped at the int64 maximum; decimal ones are not.
    constexpr __int128 kBinaryCap =
        static_cast<__int128>(std::numeric_limits<int64_t>::max()) * kNano;
    if (suffix->format == Quantity::Format::BinarySI && (!nanos || *nanos > kBinaryCap))
        nanos = kBinaryCap;
    if (!nanos) return Error(ERANGE) << "quantity `" << s << "` is too large";
    return Quantity(negative ? -*nanos : *nanos, suffix->format);
}

uint64_t milli_cpu_to_shares(int64_t milli_cpu) {
    if (milli_cpu == 0) return kMinShares;  // no request: the kernel's minimum, not its default
    // Factored as kubelet factors it, for the same rounding.
    __int128 shares = static_cast<__int128>(milli_cpu) * kSharesPerCpu / kMilliCpuToCpu;
    if (shares < static_cast<__int128>(kMinShares)) return kMinShares;
    if (shares > static_cast<__int128>(kMaxShares)) return kMaxShares;
    return static_cast<uint64_t>(shares);
}

int64_t milli_cpu_to_quota(int64_t milli_cpu, uint64_t period_us) {
    if (milli_cpu == 0) return 0;
    __int128 quota = static_cast<__int128>(milli_cpu) * period_us / kMilliCpuToCpu;
    if (quota < kMinQuotaPeriodUs) return kMinQuotaPeriodUs;
    if (quota > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(quota);
}

Result<ContainerResources> container_resources(std::string_view cpu_request,
                                               std::string_view cpu_limit,
                                               std::string_view memory_request,
                                               std::string_view memory_limit) {
    ContainerResources c;
    struct Field {
        std::string_view text;
        std::optional<Quantity>* out;
        const char* name;
    };
    for (const Field& f : {Field{cpu_request, &c.cpu_request, "requests.cpu"},
                           Field{cpu_limit, &c.cpu_limit, "limits.cpu"},
                           Field{memory_request, &c.memory_request, "requests.memory"},
                           Field{memory_limit, &c.memory_limit, "limits.memory"}}) {
        if (f.text.empty()) continue;
        auto q = parse_quantity(f.text);
        if (!q) return std::move(q).error().wrap(f.name);
        *f.out = *q;
    }
    return c;
}

uint64_t CgroupConfig::cpu_weight() const {
    return cpu_shares_to_weight(cpu_shares);
}

std::optional<std::string> CgroupConfig::cpu_max() const {
    if (!cpu_quota || *cpu_quota == 0) return std::nullopt;
    std::string quota = *cpu_quota > 0 ? std::to_string(*cpu_quota) : "max";
    return quota + " " + std::to_string(cpu_period.value_or(kQuotaPeriodUs));
}

std::optional<std::string> CgroupConfig::memory_max() const {
    if (!memory_limit || *memory_limit == 0) return std::nullopt;
    return *memory_limit > 0 ? std::to_string(*memory_limit) : "max";
}

oci::Resources CgroupConfig::to_oci() const {
    oci::Resources r;
    r.cpu.emplace();
    r.cpu->shares = cpu_shares;
    r.cpu->quota = cpu_quota;
    r.cpu->period = cpu_period;
    if (memory_limit) {
        r.memory.emplace();
        r.memory->limit = memory_limit;
    }
    return r;
}

namespace {

Result<int64_t> milli_or_zero(const std::optional<Quantity>& q, const char* field) {
    if (!q) return int64_t{0};
    auto v = q->milli_value();
    if (!v) return std::move(v).error().wrap(field);
    return *v;
}

Result<int64_t> value_or_zero(const std::optional<Quantity>& q, const char* field) {
    if (!q) return int64_t{0};
    auto v = q->value();
    if (!v) return std::move(v).error().wrap(field);
    return *v;
}

// What the API server's defaulting leaves: a missing request takes the limit.
ContainerResources defaulted(ContainerResources c) {
    if (!c.cpu_request && c.cpu_limit) c.cpu_request = c.cpu_limit;
    if (!c.memory_request && c.memory_limit) c.memory_request = c.memory_limit;
    return c;
}

}  // namespace

Result<CgroupConfig> container_config(const ContainerResources& c, const KubeletOptions& o) {
    CgroupConfig cfg;
    int64_t cpu_request = BERTH_TRY(milli_or_zero(c.cpu_request, "requests.cpu"));
    int64_t cpu_limit = BERTH_TRY(milli_or_zero(c.cpu_limit, "limits.cpu"));
    int64_t memory_limit = BERTH_TRY(value_or_zero(c.memory_limit, "limits.memory"));
    // A limit without a request: the request defaults to the limit.
    cfg.cpu_shares = milli_cpu_to_shares(!c.cpu_request && c.cpu_limit ? cpu_limit : cpu_request);
    cfg.cpu_period = o.cpu_period_us;
    int64_t quota = milli_cpu_to_quota(cpu_limit, o.cpu_period_us);
    cfg.cpu_quota = (quota == 0 || !o.enforce_cpu_limits) ? -1 : quota;
    if (memory_limit != 0) cfg.memory_limit = memory_limit;
    return cfg;
}

const char* qos_class_name(QosClass q) {
    switch (q) {
        case QosClass::Guaranteed:
            return "Guaranteed";
        case QosClass::Burstable:
            return "Burstable";
        case QosClass::BestEffort:
            return "BestEffort";
    }
    return "?";
}

Result<QosClass> pod_qos(const std::vector<ContainerResources>& containers,
                         const std::vector<ContainerResources>& init_containers) {
    // Per resource (cpu, memory): the sums of the positive requests and limits.
    std::optional<Quantity> requests[2], limits[2];
    bool guaranteed = true;
    auto add = [](std::optional<Quantity>& sum, const std::optional<Quantity>& q) -> Result<bool> {
        if (!q || q->sign() <= 0) return false;  // only quantities > 0 count
        sum = sum ? BERTH_TRY(sum->plus(*q)) : *q;
        return true;
    };
    std::vector<ContainerResources> all = containers;
    all.insert(all.end(), init_containers.begin(), init_containers.end());
    for (const ContainerResources& raw : all) {
        ContainerResources c = defaulted(raw);
        BERTH_TRY(add(requests[0], c.cpu_request));
        BERTH_TRY(add(requests[1], c.memory_request));
        bool cpu_limit = BERTH_TRY(add(limits[0], c.cpu_limit));
        bool memory_limit = BERTH_TRY(add(limits[1], c.memory_limit));
        if (!cpu_limit || !memory_limit) guaranteed = false;
    }
    size_t n_requests = 0, n_limits = 0;
    for (int i = 0; i < 2; ++i) {
        n_requests += requests[i].has_value();
        n_limits += limits[i].has_value();
    }
    if (n_requests == 0 && n_limits == 0) return QosClass::BestEffort;
    for (int i = 0; i < 2 && guaranteed; ++i) {
        if (requests[i] && (!limits[i] || *limits[i] != *requests[i])) guaranteed = false;
    }
    return guaranteed && n_requests == n_limits ? QosClass::Guaranteed : QosClass::Burstable;
}

Result<CgroupConfig> pod_config(const std::vector<ContainerResources>& containers,
                                const std::vector<ContainerResources>& init_containers,
                                const KubeletOptions& o) {
    // PodRequests / PodLimits: the app containers' sum, or an init container's value when it
    // is larger (init containers run one at a time, before the app containers).
    int64_t cpu_requests = 0, cpu_limits = 0, memory_limits = 0;
    bool cpu_limits_declared = true, memory_limits_declared = true;
    for (const ContainerResources& raw : containers) {
        ContainerResources c = defaulted(raw);
        cpu_requests += BERTH_TRY(milli_or_zero(c.cpu_request, "requests.cpu"));
        cpu_limits += BERTH_TRY(milli_or_zero(c.cpu_limit, "limits.cpu"));
        memory_limits += BERTH_TRY(value_or_zero(c.memory_limit, "limits.memory"));
        if (!c.cpu_limit || c.cpu_limit->is_zero()) cpu_limits_declared = false;
        if (!c.memory_limit || c.memory_limit->is_zero()) memory_limits_declared = false;
    }
    for (const ContainerResources& raw : init_containers) {
        ContainerResources c = defaulted(raw);
        cpu_requests =
            std::max(cpu_requests, BERTH_TRY(milli_or_zero(c.cpu_request, "requests.cpu")));
        cpu_limits = std::max(cpu_limits, BERTH_TRY(milli_or_zero(c.cpu_limit, "limits.cpu")));
        memory_limits =
            std::max(memory_limits, BERTH_TRY(value_or_zero(c.memory_limit, "limits.memory")));
    }
    uint64_t shares = milli_cpu_to_shares(cpu_requests);
    int64_t quota = milli_cpu_to_quota(cpu_limits, o.cpu_period_us);
    if (!o.enforce_cpu_limits) quota = -1;

    CgroupConfig cfg;
    switch (BERTH_TRY(pod_qos(containers, init_containers))) {
        case QosClass::Guaranteed:
            cfg.cpu_shares = shares;
            cfg.cpu_quota = quota;
            cfg.cpu_period = o.cpu_period_us;
            cfg.memory_limit = memory_limits;
            break;
        case QosClass::Burstable:
            cfg.cpu_shares = shares;
            if (cpu_limits_declared) {
                cfg.cpu_quota = quota;
                cfg.cpu_period = o.cpu_period_us;
            }
            if (memory_limits_declared) cfg.memory_limit = memory_limits;
            break;
        case QosClass::BestEffort:
            cfg.cpu_shares = kMinShares;
            break;
    }
    return cfg;
}

unsigned effective_cpus(std::optional<int64_t> quota_us, uint64_t period_us, unsigned cpuset_cpus,
                        unsigned host_cpus) {
    unsigned available = cpuset_cpus > 0 ? cpuset_cpus : std::max(host_cpus, 1u);
    if (!quota_us || *quota_us < 0 || period_us == 0) return available;
    uint64_t n = static_cast<uint64_t>(*quota_us) / period_us;  // floor
    if (n < 1) n = 1;
    return static_cast<unsigned>(std::min<uint64_t>(n, available));
}

Result<CpuMax> parse_cpu_max(std::string_view text) {
    auto fields = split(trim(text), ' ');
    fields.erase(std::remove(fields.begin(), fields.end(), std::string()), fields.end());
    if (fields.empty() || fields.size() > 2)
        return Error(EINVAL) << "cpu.max `" << text << "`: invalid format";
    CpuMax m;
    if (fields[0] != "max") {
        auto q = parse_number<int64_t>(fields[0]);
        if (!q || *q < 0) return Error(EINVAL) << "cpu.max `" << text << "`: invalid quota";
        m.quota_us = *q;
    }
    if (fields.size() == 2) {
        auto p = parse_number<uint64_t>(fields[1]);
        if (!p || *p == 0) return Error(EINVAL) << "cpu.max `" << text << "`: invalid period";
        m.period_us = *p;
    }
    return m;
}

Result<unsigned> count_cpu_list(std::string_view list) {
    unsigned count = 0;
    std::string_view t = trim(list);
    if (t.empty()) return 0u;
    for (const std::string& part : split(t, ',')) {
        auto dash = part.find('-');
        auto first = parse_number<unsigned>(std::string_view(part).substr(0, dash));
        auto last = dash == std::string::npos
                        ? first
                        : parse_number<unsigned>(std::string_view(part).substr(dash + 1));
        if (!first || !last || *last < *first)
            return Error(EINVAL) << "cpu list `" << list << "`: invalid range `" << part << "`";
        count += *last - *first + 1;
    }
    return count;
}

Result<unsigned> effective_cpus_of_cgroup(const std::string& dir) {
    std::optional<int64_t> quota;
    uint64_t period = kQuotaPeriodUs;
    if (auto text = cg_read_opt(dir, "cpu.max")) {
        CpuMax m = BERTH_TRY_CTX(parse_cpu_max(*text), dir);
        if (m.quota_us >= 0) quota = m.quota_us;
        period = m.period_us;
    }
    unsigned cpuset = 0;
    if (auto text = cg_read_opt(dir, "cpuset.cpus.effective"))
        cpuset = BERTH_TRY_CTX(count_cpu_list(*text), dir);
    long host = ::sysconf(_SC_NPROCESSORS_ONLN);
    return effective_cpus(quota, period, cpuset, host > 0 ? static_cast<unsigned>(host) : 1u);
}

}  // namespace berth::cgroup::kube
