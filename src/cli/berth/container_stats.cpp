// `berth stats [--no-stream] [--format json|table|TEMPLATE] [CONTAINER...]`, docker's stats: a
// sample a second, CPU % from the usage delta between two samples. Live mode redraws the
// table on a terminal and prints a line per container and sample otherwise.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/table_output.h"
#include "engine/stats.h"

namespace berth::cli {
namespace {

struct StatsOptions {
    std::vector<std::string> names;
    bool all = false, no_stream = false, no_trunc = false;
    std::string format;
};

struct Target {
    engine::ContainerRecord record;
    std::string cgroups_path;
    std::optional<engine::StatsSample> prev;
};

void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// The containers to show this round: the named ones, or every running one (-a: every one).
Result<std::vector<engine::ContainerRecord>> targets(engine::Engine& eng, const StatsOptions& o) {
    std::vector<engine::ContainerRecord> out;
    if (!o.names.empty()) {
        for (const auto& n : o.names) out.push_back(BERTH_TRY(eng.find(n)).record);
        return out;
    }
    for (auto& v : BERTH_TRY(eng.list())) {
        if (o.all || v.running()) out.push_back(std::move(v.record));
    }
    return out;
}

// One reading of each target; prev is kept for the next CPU %.
std::vector<nlohmann::ordered_json> sample_all(engine::Engine& eng, std::vector<Target>& ts) {
    std::vector<nlohmann::ordered_json> rows;
    for (auto& t : ts) {
        engine::ContainerView v = eng.view(t.record);
        pid_t pid = v.running() && v.task ? v.task->pid : 0;
        engine::StatsSample s =
            pid > 0 ? engine::sample_stats(t.cgroups_path, pid) : engine::StatsSample{};
        rows.push_back(
            engine::stats_json(t.record.id, t.record.name, t.prev ? &*t.prev : nullptr, s));
        t.prev = s;
    }
    return rows;
}

std::string table(const std::vector<nlohmann::ordered_json>& rows, bool no_trunc, bool header) {
    std::vector<std::vector<std::string>> cells;
    if (header) {
        cells.push_back({"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                         "BLOCK I/O", "PIDS", "CPUS"});
    }
    for (const auto& r : rows) {
        cells.push_back({no_trunc ? r["Container"].get<std::string>() : r["ID"].get<std::string>(),
                         r["Name"], r["CPUPerc"], r["MemUsage"], r["MemPerc"], r["NetIO"],
                         r["BlockIO"], r["PIDs"], std::to_string(r["EffectiveCPUs"].get<int>())});
    }
    // Fixed widths so that lines printed a sample at a time stay aligned.
    return fixed_width_table(cells, {14, 22, 9, 22, 9, 20, 20, 6, 4});
}

Result<std::string> render(const std::vector<nlohmann::ordered_json>& rows, const StatsOptions& o,
                           bool header) {
    std::string out;
    if (is_json_format(o.format)) {
        for (const auto& r : rows) out += r.dump() + "\n";  // a line each, as docker streams them
        return out;
    }
    if (is_template_format(o.format)) {
        image::Json objs = image::Json::array();
        for (const auto& r : rows) objs.push_back(image::Json::parse(r.dump()));
        return render_lines(o.format, objs);
    }
    return table(rows, o.no_trunc, header);
}

Result<int> run_stats(Context& ctx, const StatsOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    std::vector<Target> ts;
    auto refresh = [&]() -> Result<void> {
        std::vector<Target> next;
        for (auto& r : BERTH_TRY(targets(eng, o))) {
            auto old = std::find_if(ts.begin(), ts.end(),
                                    [&](const Target& t) { return t.record.id == r.id; });
            if (old != ts.end()) {
                next.push_back(std::move(*old));
            } else {
                std::string cg = engine::cgroups_path_of(r.spec);
                next.push_back(Target{std::move(r), cg, std::nullopt});
            }
        }
        ts = std::move(next);
        return {};
    };
    BERTH_TRY(refresh());
    (void)sample_all(eng, ts);  // the baseline for the first CPU %
    sleep_ms(1000);
    if (o.no_stream) {
        BERTH_TRY(print_out(BERTH_TRY(render(sample_all(eng, ts), o, true))));
        return 0;
    }
    bool tty = ::isatty(STDOUT_FILENO);
    for (bool first = true;; first = false) {
        auto rows = sample_all(eng, ts);
        std::string text = BERTH_TRY(render(rows, o, tty || first));
        if (tty) text = "\033[2J\033[H" + text;  // redraw from the top
        BERTH_TRY(print_out(text));
        sleep_ms(1000);
        if (!o.names.empty()) {
            // Named containers: until none of them is left running.
            bool any = false;
            for (const auto& t : ts) any |= eng.view(t.record).running();
            if (!any) return 0;
        } else {
            BERTH_TRY(refresh());
        }
    }
}

}  // namespace

CLI::App* add_container_stats(CLI::App& parent, Context& ctx, const std::string& name) {
    auto o = std::make_shared<StatsOptions>();
    CLI::App* c = parent.add_subcommand(name, "show containers' resource usage");
    c->add_flag("-a,--all", o->all, "all containers (default: the running ones)");
    c->add_flag("--no-stream", o->no_stream, "one sample, then exit");
    c->add_flag("--no-trunc", o->no_trunc, "do not truncate IDs");
    c->add_option("--format", o->format, "json, table or a Go template ({{.CPUPerc}})");
    c->add_option("container", o->names, "containers");
    c->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_stats(ctx, *o); }; });
    return c;
}

void add_container_resource_commands(CLI::App& parent, Context& ctx) {
    add_container_stats(parent, ctx, "stats");
    add_container_update(parent, ctx, "update");
}

}  // namespace berth::cli
