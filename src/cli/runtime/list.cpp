// list/ls: runc's table (text/tabwriter with minwidth 12, padding 3) or its JSON array.
#include <algorithm>
#include <string>

#include "cli/runtime/verbs.h"

namespace berth::cli {
namespace {

// Go's tabwriter as runc configures it: every column but the last is as wide as its widest
// cell plus 3 spaces, and at least 12.
std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        for (size_t c = 0; c + 1 < row.size(); c++) {
            if (widths.size() <= c) widths.resize(c + 1, 12);
            widths[c] = std::max(widths[c], row[c].size() + 3);
        }
    }
    std::string out;
    for (const auto& row : rows) {
        for (size_t c = 0; c < row.size(); c++) {
            out += row[c];
            if (c + 1 < row.size()) out.append(widths[c] - row[c].size(), ' ');
        }
        out += '\n';
    }
    return out;
}

std::string state_object(const runtime::ContainerState& s) {
    std::string o = "{\"ociVersion\":" + json_quote(s.oci_version);
    o += ",\"id\":" + json_quote(s.id);
    o += ",\"pid\":" + std::to_string(s.pid);
    o += ",\"status\":" + json_quote(s.status);
    o += ",\"bundle\":" + json_quote(s.bundle);
    o += ",\"rootfs\":" + json_quote(s.rootfs);
    o += ",\"created\":" + json_quote(s.created);
    if (!s.annotations.empty()) {
        o += ",\"annotations\":{";
        bool first = true;
        for (const auto& [k, v] : s.annotations) {
            if (!first) o += ',';
            o += json_quote(k) + ":" + json_quote(v);
            first = false;
        }
        o += '}';
    }
    o += ",\"owner\":" + json_quote(s.owner);
    o += '}';
    return o;
}

}  // namespace

Result<int> verb_list(VerbContext& ctx, Args args) {
    static constexpr FlagSpec kFlags[] = {
        {"format,f", FlagKind::Value, "select one of: table or json (default: table)"},
        {"quiet,q", FlagKind::Bool, "display only container IDs"},
    };
    auto a = BERTH_TRY(parse_args(args, kFlags));
    if (a.help()) return print_verb_help(ctx, "", kFlags);
    BERTH_TRY(require_exact_args(a, ctx.verb, 0));
    std::string format = a.value_or("format", "table");
    if (format != "table" && format != "json") return Error() << "invalid format option";
    auto containers = BERTH_TRY(runtime::list(ctx.global));
    std::sort(containers.begin(), containers.end(),
              [](const auto& x, const auto& y) { return x.id < y.id; });
    for (auto& c : containers) {
        if (c.status == "stopped") c.pid = 0;
    }

    if (a.flag("quiet")) {
        std::string out;
        for (const auto& c : containers) out += c.id + "\n";
        BERTH_TRY(print_out(out));
        return 0;
    }
    if (format == "json") {
        // encoding/json writes a nil slice as null; runc's list does exactly that.
        if (containers.empty()) {
            BERTH_TRY(print_out("null\n"));
            return 0;
        }
        std::string out = "[";
        for (size_t i = 0; i < containers.size(); i++) {
            if (i) out += ',';
            out += state_object(containers[i]);
        }
        out += "]\n";
        BERTH_TRY(print_out(out));
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
    for (const auto& c : containers) {
        rows.push_back({c.id, std::to_string(c.pid), c.status, c.bundle, c.created, c.owner});
    }
    BERTH_TRY(print_out(align_columns(rows)));
    return 0;
}

}  // namespace berth::cli
