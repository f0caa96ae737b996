// The output of the list and inspect commands (ps, images, stats, info, inspect, task ls, ns ls):
// --format json, a Go template per object, or a table of aligned columns.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "image/oci_image.h"

namespace berth::cli {

// "json" and "{{json .}}": the objects as JSON rather than through a template or a table.
bool is_json_format(const std::string& format);
// A Go template: anything but empty, "table" and the JSON formats.
bool is_template_format(const std::string& format);

// A JSON value, indented by 4, with a newline; invalid UTF-8 is replaced rather than thrown.
std::string json_text(const image::Json& value);
std::string json_text(const nlohmann::ordered_json& value);

// Each object of the array through the Go template, a line each.
Result<std::string> render_lines(const std::string& format, const image::Json& objects);

// inspect's output: the array as JSON (empty or JSON format) or each object through the template.
Result<std::string> inspect_output(const std::string& format, const image::Json& objects);

// Rows (the header first) in columns as wide as their widest cell plus `gap` spaces, as Go's
// tabwriter pads them; the last column is not padded and trailing blanks are dropped.
std::string aligned_table(const std::vector<std::vector<std::string>>& rows, size_t gap = 2);

// Rows in columns of fixed widths (at least one space between cells), so that lines printed
// apart stay aligned; the last column is not padded.
std::string fixed_width_table(const std::vector<std::vector<std::string>>& rows,
                              const std::vector<size_t>& widths);

// One line each.
std::string lines(const std::vector<std::string>& items);

}  // namespace berth::cli
