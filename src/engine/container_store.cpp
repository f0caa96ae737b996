#include "engine/container_store.h"

#include <sys/random.h>

#include <nlohmann/json.hpp>

namespace berth::engine {
namespace {

constexpr const char kComponent[] = "engine";

// Version 1. spec is the whole generated config.json; chain_ids and labels are JSON.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE containers (
    id             TEXT PRIMARY KEY,
    namespace      TEXT NOT NULL DEFAULT 'default',
    name           TEXT NOT NULL,
    image_name     TEXT NOT NULL,
    image_id       TEXT NOT NULL,
    chain_ids      TEXT NOT NULL DEFAULT '[]',
    spec           TEXT NOT NULL,
    created        TEXT NOT NULL,
    labels         TEXT NOT NULL DEFAULT '{}',
    restart_policy TEXT NOT NULL DEFAULT 'no',
    stop_signal    TEXT NOT NULL DEFAULT 'SIGTERM',
    stop_timeout   INTEGER NOT NULL DEFAULT 10,
    log_path       TEXT NOT NULL,
    runtime        TEXT NOT NULL,
    network        TEXT NOT NULL DEFAULT 'none',
    auto_remove    INTEGER NOT NULL DEFAULT 0,
    UNIQUE(namespace, name)
);
CREATE INDEX containers_by_namespace ON containers(namespace);
)sql";

constexpr const char kColumns[] =
    "id, namespace, name, image_name, image_id, chain_ids, spec, created, labels, "
    "restart_policy, stop_signal, stop_timeout, log_path, runtime, network, auto_remove";

using Json = nlohmann::json;

}  // namespace

Result<ContainerStore> ContainerStore::open(db::Db& db) {
    BERTH_TRY(db.migrate(kComponent, {kSchemaV1}));
    return ContainerStore(db);
}

Result<void> ContainerStore::insert(const ContainerRecord& r) {
    Json chains = r.chain_ids;
    Json labels = r.labels;
    auto st = BERTH_TRY(db_->prepare(std::string("INSERT INTO containers(") + kColumns +
                                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    BERTH_TRY(st.bind_all(r.id, r.ns, r.name, r.image_name, r.image_id, chains.dump(), r.spec,
                          r.created, labels.dump(), r.restart_policy, r.stop_signal,
                          int64_t(r.stop_timeout), r.log_path, r.runtime, r.network,
                          int64_t(r.auto_remove ? 1 : 0)));
    auto run = st.run();
    if (!run.ok()) {
        if (run.error().message().find("UNIQUE") != std::string::npos) {
            if (name_taken(r.ns, r.name)) {
                return Error(EEXIST) << "the container name `" << r.name
                                     << "` is already in use in namespace `" << r.ns << "`";
            }
        }
        return std::move(run).error().wrap("recording container " + r.id);
    }
    return {};
}

Result<std::vector<ContainerRecord>> ContainerStore::query(
    const std::string& where, const std::vector<std::string>& args) const {
    auto st = BERTH_TRY(db_->prepare(std::string("SELECT ") + kColumns + " FROM containers " +
                                     where + " ORDER BY created, id"));
    for (size_t i = 0; i < args.size(); ++i) BERTH_TRY(st.bind(int(i) + 1, args[i]));
    std::vector<ContainerRecord> out;
    while (BERTH_TRY(st.step())) {
        ContainerRecord r;
        r.id = st.column_text(0);
        r.ns = st.column_text(1);
        r.name = st.column_text(2);
        r.image_name = st.column_text(3);
        r.image_id = st.column_text(4);
        Json chains = Json::parse(st.column_text(5), nullptr, false);
        if (chains.is_array()) {
            for (const auto& c : chains) {
                if (c.is_string()) r.chain_ids.push_back(c.get<std::string>());
            }
        }
        r.spec = st.column_text(6);
        r.created = st.column_text(7);
        Json labels = Json::parse(st.column_text(8), nullptr, false);
        if (labels.is_object()) {
            for (auto it = labels.begin(); it != labels.end(); ++it) {
                if (it->is_string()) r.labels[it.key()] = it->get<std::string>();
            }
        }
        r.restart_policy = st.column_text(9);
        r.stop_signal = st.column_text(10);
        r.stop_timeout = int(st.column_int64(11));
        r.log_path = st.column_text(12);
        r.runtime = st.column_text(13);
        r.network = st.column_text(14);
        r.auto_remove = st.column_int64(15) != 0;
        out.push_back(std::move(r));
    }
    return out;
}

Result<ContainerRecord> ContainerStore::find(const std::string& ns, const std::string& ref) const {
    if (ref.empty()) return Error(EINVAL) << "empty container name or id";
    auto by_name = BERTH_TRY(query("WHERE namespace = ? AND (name = ? OR id = ?)", {ns, ref, ref}));
    if (!by_name.empty()) return std::move(by_name.front());
    if (ref.find_first_not_of("0123456789abcdef") == std::string::npos) {
        auto by_prefix = BERTH_TRY(query("WHERE namespace = ? AND substr(id, 1, ?) = ?",
                                         {ns, std::to_string(ref.size()), ref}));
        if (by_prefix.size() == 1) return std::move(by_prefix.front());
        if (by_prefix.size() > 1) {
            return Error(EINVAL) << "container id prefix `" << ref << "` is ambiguous ("
                                 << by_prefix.size() << " containers)";
        }
    }
    return Error(ENOENT) << "no container with name or ID `" << ref << "` found";
}

Result<std::vector<ContainerRecord>> ContainerStore::list(const std::string& ns) const {
    return query("WHERE namespace = ?", {ns});
}

Result<std::vector<ContainerRecord>> ContainerStore::list_all() const {
    return query("", {});
}

Result<void> ContainerStore::remove(const std::string& id) {
    return db_->run("DELETE FROM containers WHERE id = ?", id);
}

Result<void> ContainerStore::update_spec(const std::string& id, const std::string& spec) {
    return db_->run("UPDATE containers SET spec = ? WHERE id = ?", spec, id);
}

bool ContainerStore::name_taken(const std::string& ns, const std::string& name) const {
    auto r = query("WHERE namespace = ? AND name = ?", {ns, name});
    return r.ok() && !r->empty();
}

Result<std::string> new_container_id() {
    unsigned char bytes[32];
    size_t got = 0;
    while (got < sizeof(bytes)) {
        ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "getrandom";
        got += size_t(n);
    }
    static const char kHex[] = "0123456789abcdef";
    std::string id;
    for (unsigned char b : bytes) {
        id += kHex[b >> 4];
        id += kHex[b & 15];
    }
    return id;
}

std::string random_name(const std::string& id) {
    static const char* const kAdjectives[] = {
        "brave", "calm",  "eager",  "fervent", "gallant", "happy", "jolly",  "keen",
        "lucid", "nifty", "quirky", "serene",  "sharp",   "stoic", "upbeat", "zealous"};
    static const char* const kNames[] = {
        "babbage",  "curie",   "darwin", "euler",   "faraday", "galois",   "hopper", "kepler",
        "lovelace", "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak"};
    auto nibble = [&](size_t i) {
        char c = id[i];
        return size_t(c >= 'a' ? c - 'a' + 10 : c - '0');
    };
    return std::string(kAdjectives[nibble(0)]) + "_" + kNames[nibble(1)];
}

}  // namespace berth::engine
