// Container metadata in the shared berth.db (migration component "engine"): one row per
// container, with the generated OCI config so that `start` never needs the image again.
// Live task state is not here: berth-monitor keeps it in <runroot>/<ns>/tasks/<id>/task.json.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "db/db.h"

namespace berth::engine {

struct ContainerRecord {
    std::string id;  // 64 hex digits
    std::string ns = "default";
    std::string name;                    // unique in its namespace
    std::string image_name;              // as the user named it, normalized when it was a name
    std::string image_id;                // the config digest's hex
    std::vector<std::string> chain_ids;  // "sha256:..." snapshot keys, lowest layer first
    std::string spec;                    // config.json as generated at create
    std::string created;                 // RFC 3339
    std::map<std::string, std::string> labels;
    std::string restart_policy = "no";
    std::string stop_signal = "SIGTERM";
    int stop_timeout = 10;
    std::string log_path;
    std::string runtime;           // absolute path of the OCI runtime binary
    std::string network = "none";  // none | host
    bool auto_remove = false;      // --rm
};

class ContainerStore {
  public:
    // Migrates the "engine" component's tables in `db` (shared with the image store).
    static Result<ContainerStore> open(db::Db& db);

    // EEXIST naming the name when it is taken in the namespace.
    Result<void> insert(const ContainerRecord& record);
    // By full id, unique id prefix (at least 1 hex digit... as podman) or exact name, in ns.
    // ENOENT "no such container" when nothing matches; EINVAL when a prefix is ambiguous.
    Result<ContainerRecord> find(const std::string& ns, const std::string& ref) const;
    Result<std::vector<ContainerRecord>> list(const std::string& ns) const;
    // Every container of every namespace (gc).
    Result<std::vector<ContainerRecord>> list_all() const;
    Result<void> remove(const std::string& id);
    // Replaces a container's stored config.json (`berth update`'s new limits).
    Result<void> update_spec(const std::string& id, const std::string& spec);
    bool name_taken(const std::string& ns, const std::string& name) const;

  private:
    explicit ContainerStore(db::Db& db) : db_(&db) {}
    Result<std::vector<ContainerRecord>> query(const std::string& where,
                                               const std::vector<std::string>& args) const;
    db::Db* db_;
};

// A fresh random 64-hex-digit id.
Result<std::string> new_container_id();
// docker's way of naming: "adjective_name" (with a number when it is taken).
std::string random_name(const std::string& id);

}  // namespace berth::engine
