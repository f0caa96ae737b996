// events: cgroup stats as runc's events JSON ({"type":"stats","id":...,"data":{...}}, field
// names and omitempty rules of runc's types/events.go), once with --stats or every
// --interval until the container stops, plus {"type":"oom"} when the OOM-kill count grows.
#include <time.h>

#include <chrono>

#include "base/log.h"
#include "cli/runtime/verbs.h"

namespace berth::cli {
namespace {

// A compact JSON object builder that knows Go's omitempty.
class JsonObject {
  public:
    JsonObject& num(std::string_view key, uint64_t v) { return raw(key, std::to_string(v)); }
    JsonObject& num_omitempty(std::string_view key, uint64_t v) {
        return v == 0 ? *this : num(key, v);
    }
    JsonObject& str_omitempty(std::string_view key, std::string_view v) {
        return v.empty() ? *this : raw(key, json_quote(v));
    }
    JsonObject& nums_omitempty(std::string_view key, const std::vector<uint64_t>& v) {
        if (v.empty()) return *this;
        std::string a = "[";
        for (size_t i = 0; i < v.size(); i++) {
            if (i) a += ',';
            a += std::to_string(v[i]);
        }
        return raw(key, a + "]");
    }
    JsonObject& raw(std::string_view key, std::string_view json) {
        body_ += body_.empty() ? "" : ",";
        body_ += json_quote(key);
        body_ += ':';
        body_ += json;
        return *this;
    }
    std::string str() const { return "{" + body_ + "}"; }

  private:
    std::string body_;
};

std::string memory_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt) {
    return JsonObject()
        .num("limit", limit)
        .num_omitempty("usage", usage)
        .num_omitempty("max", max)
        .num("failcnt", failcnt)
        .str();
}

std::string blkio_entries(const std::vector<cgroup::BlkioEntry>& entries) {
    std::string a = "[";
    for (size_t i = 0; i < entries.size(); i++) {
        const auto& e = entries[i];
        if (i) a += ',';
        a += JsonObject()
                 .num_omitempty("major", e.major)
                 .num_omitempty("minor", e.minor)
                 .str_omitempty("op", e.op)
                 .num_omitempty("value", e.value)
                 .str();
    }
    return a + "]";
}

std::string stats_data(const cgroup::Stats& s) {
    const auto& c = s.cpu;
    std::string usage = JsonObject()
                            .num_omitempty("total", c.usage_total_ns)
                            .nums_omitempty("percpu", c.usage_per_cpu_ns)
                            .num("kernel", c.usage_kernel_ns)
                            .num("user", c.usage_user_ns)
                            .str();
    std::string throttling = JsonObject()
                                 .num_omitempty("periods", c.periods)
                                 .num_omitempty("throttledPeriods", c.throttled_periods)
                                 .num_omitempty("throttledTime", c.throttled_time_ns)
                                 .str();
    std::string cpu = JsonObject().raw("usage", usage).raw("throttling", throttling).str();

    const auto& m = s.memory;
    JsonObject memory;
    memory.num_omitempty("cache", m.cache)
        .raw("usage", memory_entry(m.limit, m.usage, m.max_usage, m.failcnt))
        .raw("swap", memory_entry(m.swap_limit, m.swap_usage, 0, 0))
        .raw("kernel", memory_entry(0, 0, 0, 0))
        .raw("kernelTCP", memory_entry(0, 0, 0, 0));
    if (!m.raw.empty()) {
        JsonObject raw;
        for (const auto& [k, v] : m.raw) raw.num(k, v);
        memory.raw("raw", raw.str());
    }

    std::string pids = JsonObject()
                           .num_omitempty("current", s.pids.current)
                           .num_omitempty("limit", s.pids.limit)
                           .str();
    JsonObject blkio;
    if (!s.blkio.io_service_bytes.empty()) {
        blkio.raw("ioServiceBytesRecursive", blkio_entries(s.blkio.io_service_bytes));
    }
    if (!s.blkio.io_serviced.empty()) {
        blkio.raw("ioServicedRecursive", blkio_entries(s.blkio.io_serviced));
    }
    JsonObject hugetlb;
    for (const auto& [size, h] : s.hugetlb) {
        hugetlb.raw(size, JsonObject()
                              .num_omitempty("usage", h.usage)
                              .num_omitempty("max", h.max_usage)
                              .num("failcnt", h.failcnt)
                              .str());
    }
    return JsonObject()
        .raw("cpu", cpu)
        .raw("memory", memory.str())
        .raw("pids", pids)
        .raw("blkio", blkio.str())
        .raw("hugetlb", hugetlb.str())
        .str();
}

Result<void> emit(std::string_view type, const std::string& id, const std::string& data_json) {
    JsonObject event;
    event.raw("type", json_quote(type)).raw("id", json_quote(id));
    if (!data_json.empty()) event.raw("data", data_json);
    return print_out(event.str() + "\n");
}

// A container that is gone or stopped ends the stream.
bool still_running(const runtime::GlobalOptions& g, const std::string& id) {
    auto st = runtime::state(g, id);
    return st.ok() && st->status != "stopped";
}

void sleep_for(std::chrono::nanoseconds d) {
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(d.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(d.count() % 1000000000);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

}  // namespace

Result<int> verb_events(VerbContext& ctx, Args args) {
    static constexpr FlagSpec kFlags[] = {
        {"interval", FlagKind::Value, "stats collection interval (default: 5s)"},
        {"stats", FlagKind::Bool, "display the container's stats once, then exit"},
    };
    auto a = BERTH_TRY(parse_args(args, kFlags));
    if (a.help()) return print_verb_help(ctx, "<container-id>", kFlags);
    BERTH_TRY(require_exact_args(a, ctx.verb, 1));
    std::string interval_text = a.value_or("interval", "5s");
    auto interval = parse_go_duration(interval_text);
    if (!interval) {
        return Error() << "invalid value \"" << interval_text << "\" for flag -interval";
    }
    if (interval->count() <= 0) return Error() << "duration interval must be greater than 0";
    const std::string& id = a.positional()[0];
    auto st = BERTH_TRY(runtime::state(ctx.global, id));
    if (st.status == "stopped") return Error() << "container with id " << id << " is not running";

    if (a.flag("stats")) {
        auto s = BERTH_TRY(runtime::stats(ctx.global, id));
        BERTH_TRY(emit("stats", id, stats_data(s)));
        return 0;
    }
    auto first = BERTH_TRY(runtime::stats(ctx.global, id));
    uint64_t oom_kills = first.memory.oom_kill;
    for (;;) {
        sleep_for(*interval);
        auto s = runtime::stats(ctx.global, id);
        if (!s.ok()) {
            if (!still_running(ctx.global, id)) return 0;
            log::error(s.error().what());
            continue;
        }
        if (s->memory.oom_kill > oom_kills) BERTH_TRY(emit("oom", id, ""));
        oom_kills = s->memory.oom_kill;
        BERTH_TRY(emit("stats", id, stats_data(*s)));
        if (!still_running(ctx.global, id)) return 0;
    }
}

}  // namespace berth::cli
