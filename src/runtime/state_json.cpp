// The state document: what `state` prints and what hooks read on stdin. runc's field order,
// two-space indentation, annotations only when there are some.
#include <nlohmann/json.hpp>

#include "runtime/api.h"

namespace berth::runtime {

std::string state_json(const ContainerState& s) {
    nlohmann::ordered_json j;
    j["ociVersion"] = s.oci_version;
    j["id"] = s.id;
    j["pid"] = s.pid;
    j["status"] = s.status;
    j["bundle"] = s.bundle;
    j["rootfs"] = s.rootfs;
    j["created"] = s.created;
    if (!s.annotations.empty()) j["annotations"] = s.annotations;
    j["owner"] = s.owner;
    // replace: a byte sequence that is not UTF-8 must not make dump() throw.
    return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace berth::runtime
