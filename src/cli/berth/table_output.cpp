#include "cli/berth/table_output.h"

#include <algorithm>

#include "cli/berth/context.h"

namespace berth::cli {

bool is_json_format(const std::string& format) {
    return format == "json" || format == "{{json .}}";
}

bool is_template_format(const std::string& format) {
    return !format.empty() && format != "table" && !is_json_format(format);
}

std::string json_text(const image::Json& value) {
    return value.dump(4, ' ', false, image::Json::error_handler_t::replace) + "\n";
}

std::string json_text(const nlohmann::ordered_json& value) {
    return value.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<std::string> render_lines(const std::string& format, const image::Json& objects) {
    std::string out;
    for (const auto& obj : objects) out += BERTH_TRY(render_template(format, obj)) + "\n";
    return out;
}

Result<std::string> inspect_output(const std::string& format, const image::Json& objects) {
    if (format.empty() || is_json_format(format)) return json_text(objects);
    return render_lines(format, objects);
}

std::string aligned_table(const std::vector<std::vector<std::string>>& rows, size_t gap) {
    std::vector<size_t> width;
    for (const auto& row : rows) {
        if (width.size() < row.size()) width.resize(row.size(), 0);
        for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + gap, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string fixed_width_table(const std::vector<std::vector<std::string>>& rows,
                              const std::vector<size_t>& widths) {
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                size_t w = i < widths.size() ? widths[i] : 0;
                line += std::string(row[i].size() < w ? w - row[i].size() : 1, ' ');
            }
        }
        out += line + "\n";
    }
    return out;
}

std::string lines(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += item + "\n";
    return out;
}

}  // namespace berth::cli
