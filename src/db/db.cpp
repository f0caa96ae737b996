#include "db/db.h"

#include <sqlite3.h>
#include <time.h>

#include <utility>

namespace berth::db {

namespace {

int errno_of(int rc) {
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return EBUSY;
        case SQLITE_CONSTRAINT:
            return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? EEXIST
                                                                                          : EINVAL;
        case SQLITE_NOMEM:
            return ENOMEM;
        case SQLITE_READONLY:
        case SQLITE_PERM:
            return EROFS;
        case SQLITE_AUTH:
            return EACCES;
        case SQLITE_FULL:
            return ENOSPC;
        case SQLITE_CANTOPEN:
            return ENOENT;
        case SQLITE_MISUSE:
        case SQLITE_RANGE:
        case SQLITE_ERROR:
        case SQLITE_MISMATCH:
        case SQLITE_TOOBIG:
            return EINVAL;
        default:
            return EIO;  // corrupt, not a database, I/O errors
    }
}

Error make_error(sqlite3* db, int rc, std::string_view what) {
    Error e(errno_of(rc));
    e << what << ": ";
    const char* msg = db ? sqlite3_errmsg(db) : nullptr;
    e << (msg ? msg : sqlite3_errstr(rc));
    if (db && (rc & 0xff) == SQLITE_IOERR) {
        if (int sys = sqlite3_system_errno(db)) e << " (" << strerror(sys) << ")";
    }
    return e;
}

void sleep_ms(int ms) {
    timespec ts{ms / 1000, long(ms % 1000) * 1000000L};
    ::nanosleep(&ts, nullptr);
}

}  // namespace

// --- Statement ---

Statement::Statement(Statement&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
Statement& Statement::operator=(Statement&& o) noexcept {
    if (this != &o) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(o.stmt_, nullptr);
    }
    return *this;
}
Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Error Statement::error(int rc) const {
    const char* sql = sqlite3_sql(stmt_);
    std::string what = "sqlite `";
    what += sql ? sql : "?";
    what += "`";
    return make_error(sqlite3_db_handle(stmt_), rc, what);
}

Result<void> Statement::bind(int index, int64_t value) {
    int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK) return error(rc);
    return {};
}
Result<void> Statement::bind(int index, std::string_view text) {
    int rc =
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) return error(rc);
    return {};
}
Result<void> Statement::bind(int index, std::nullptr_t) {
    int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK) return error(rc);
    return {};
}
Result<void> Statement::bind_blob(int index, std::string_view bytes) {
    int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) return error(rc);
    return {};
}

Result<bool> Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Error e = error(rc);
    sqlite3_reset(stmt_);
    return e;
}

Result<void> Statement::run() {
    while (BERTH_TRY(step())) {
    }
    return {};
}

Result<void> Statement::reset() {
    int rc = sqlite3_reset(stmt_);
    if (rc != SQLITE_OK) return error(rc);
    return {};
}

int Statement::column_count() const {
    return sqlite3_column_count(stmt_);
}
bool Statement::column_is_null(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
int64_t Statement::column_int64(int col) const {
    return sqlite3_column_int64(stmt_, col);
}
std::string Statement::column_text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt_, col));
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(p, size_t(n)) : std::string();
}

// --- Db ---

Db::Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}
Db& Db::operator=(Db&& o) noexcept {
    if (this != &o) {
        sqlite3_close_v2(db_);
        db_ = std::exchange(o.db_, nullptr);
        path_ = std::move(o.path_);
    }
    return *this;
}
Db::~Db() {
    sqlite3_close_v2(db_);
}

Error Db::error(int rc, std::string_view what) const {
    return make_error(db_, rc, what);
}

Result<Db> Db::open(const std::string& path, const Options& options) {
    Db db;
    db.path_ = path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        Error e = make_error(db.db_, rc, "opening database `" + path + "`");
        return e;
    }
    sqlite3_extended_result_codes(db.db_, 1);
    sqlite3_busy_timeout(db.db_, options.busy_timeout_ms);
    // Switching to WAL needs an exclusive lock for a moment and does not always go through the
    // busy handler (a second process opening a fresh file at the same time): retry it here.
    for (int waited = 0;; waited += 10) {
        auto st = db.prepare("PRAGMA journal_mode=WAL");
        Result<bool> row = st.ok() ? st->step() : Result<bool>(std::move(st).error());
        if (row.ok()) {
            std::string mode = *row ? st->column_text(0) : "";
            if (mode != "wal")
                return Error(EIO) << "database `" << path << "`: cannot use WAL (journal mode `"
                                  << mode << "`)";
            break;
        }
        if (row.error().errno_value() != EBUSY || waited >= options.busy_timeout_ms)
            return std::move(row).error().wrap("database `" + path + "`");
        sleep_ms(10);
    }
    // NORMAL is crash-safe in WAL mode (a power loss may lose the last commits, never corrupt).
    BERTH_TRY(db.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
    return db;
}

Result<void> Db::exec(std::string_view sql) {
    std::string text(sql);
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
        Error e(errno_of(rc));
        e << "sqlite `" << sql << "`: " << (msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return e;
    }
    return {};
}

Result<Statement> Db::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), int(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return error(rc, "sqlite `" + std::string(sql) + "`");
    if (!stmt) return Error(EINVAL) << "sqlite `" << sql << "`: no statement";
    return Statement(stmt);
}

int64_t Db::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_);
}
int Db::changes() const {
    return sqlite3_changes(db_);
}
bool Db::in_transaction() const {
    return !sqlite3_get_autocommit(db_);
}

namespace {
constexpr std::string_view kVersionsTable =
    "CREATE TABLE IF NOT EXISTS schema_versions ("
    "component TEXT PRIMARY KEY, version INTEGER NOT NULL)";
}

Result<int> Db::schema_version(std::string_view component) {
    auto st = prepare("SELECT version FROM schema_versions WHERE component = ?");
    if (!st.ok()) {
        // No table yet: nobody migrated anything.
        if (st.error().message().find("no such table") != std::string::npos) return 0;
        return std::move(st).error();
    }
    BERTH_TRY(st->bind(1, component));
    if (!BERTH_TRY(st->step())) return 0;
    return int(st->column_int64(0));
}

Result<void> Db::migrate(std::string_view component, const std::vector<std::string_view>& steps) {
    auto tx = BERTH_TRY(Transaction::begin(*this));
    BERTH_TRY(exec(kVersionsTable));
    int have = BERTH_TRY(schema_version(component));
    int want = int(steps.size());
    if (have > want)
        return Error(EPROTO) << "database `" << path_ << "`: " << component << " schema version "
                             << have << " is newer than this berth knows (" << want << ")";
    if (have == want) return tx.commit();
    for (int v = have; v < want; ++v) {
        auto r = exec(steps[size_t(v)]);
        if (!r.ok())
            return std::move(r).error().wrap(std::string("migrating ") + std::string(component) +
                                             " to schema version " + std::to_string(v + 1));
    }
    BERTH_TRY(
        run("INSERT INTO schema_versions(component, version) VALUES(?, ?) "
            "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
            component, want));
    return tx.commit();
}

// --- Transaction ---

Result<Transaction> Transaction::begin(Db& db) {
    BERTH_TRY(db.exec("BEGIN IMMEDIATE"));
    return Transaction(&db);
}

Transaction::Transaction(Transaction&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}

Transaction::~Transaction() {
    rollback();
}

Result<void> Transaction::commit() {
    if (!db_) return Error(EINVAL) << "transaction already finished";
    auto r = db_->exec("COMMIT");
    if (!r.ok()) {
        rollback();
        return r;
    }
    db_ = nullptr;
    return {};
}

void Transaction::rollback() {
    if (!db_) return;
    // A failed statement may already have rolled the transaction back (SQLITE_FULL, IOERR...).
    if (db_->in_transaction()) (void)db_->exec("ROLLBACK");
    db_ = nullptr;
}

}  // namespace berth::db
