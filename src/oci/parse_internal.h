// Shared between the parse_*.cpp files: readers for each part of the spec, and the cross-field
// validation that runs once the whole document is read. Not part of the oci API.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oci/json_reader.h"
#include "oci/spec.h"

namespace berth::oci::detail {

// Each reader checks the node is an object, reads every field it knows, ignores the others, and
// validates what can be checked locally (enums, ranges, absolute paths).
Result<Process> read_process(const json::Node& node);
Result<Resources> read_resources(const json::Node& node);
Result<Linux> read_linux(const json::Node& node);
Result<std::vector<IdMapping>> read_id_mappings(const json::Node& node);

// Checks that need more than one field: namespaces required by mappings, sysctls, hostname.
Result<void> validate_spec(const Spec& spec);

inline bool is_absolute(std::string_view path) {
    return !path.empty() && path[0] == '/';
}

// Quotes a value for an error message: "foo" (keeps messages unambiguous about whitespace).
std::string quote(std::string_view s);

}  // namespace berth::oci::detail
