// A small RAII wrapper over SQLite for berth's metadata database: one connection per process
// (WAL, busy timeout, foreign keys on), prepared statements, IMMEDIATE transactions that roll
// back unless committed, and per-component schema migrations (images, containers... each keep
// their own version in `schema_versions`, so components evolve independently in one file).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::db {

class Statement {
  public:
    Statement(Statement&&) noexcept;
    Statement& operator=(Statement&&) noexcept;
    ~Statement();

    // Parameters are 1-based, as in SQLite.
    Result<void> bind(int index, int64_t value);
    Result<void> bind(int index, int value) { return bind(index, int64_t(value)); }
    Result<void> bind(int index, std::string_view text);
    Result<void> bind(int index, const std::string& text) {
        return bind(index, std::string_view(text));
    }
    Result<void> bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Result<void> bind(int index, std::nullptr_t);
    Result<void> bind_blob(int index, std::string_view bytes);
    template <typename... Args>
    Result<void> bind_all(const Args&... args) {
        int i = 0;
        Result<void> r;
        (void)i;  // unused when there are no arguments
        ((r.ok() ? (void)(r = bind(++i, args)) : (void)0), ...);
        return r;
    }

    // True when a row is ready, false when done; an error names the SQL.
    Result<bool> step();
    // Steps to the end (for statements that return no rows).
    Result<void> run();
    Result<void> reset();  // ready to step again; bindings are kept

    int column_count() const;
    bool column_is_null(int col) const;  // 0-based, as in SQLite
    int64_t column_int64(int col) const;
    std::string column_text(int col) const;

  private:
    friend class Db;
    explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    Error error(int rc) const;
    sqlite3_stmt* stmt_ = nullptr;
};

class Db {
  public:
    struct Options {
        int busy_timeout_ms = 30000;  // how long a writer waits for another process's lock
        bool create = true;
    };
    // Opens (creating when allowed) the database at `path` in WAL mode.
    static Result<Db> open(const std::string& path, const Options& options);
    static Result<Db> open(const std::string& path) { return open(path, Options{}); }
    Db(Db&&) noexcept;
    Db& operator=(Db&&) noexcept;
    ~Db();

    // Runs one or more statements without parameters.
    Result<void> exec(std::string_view sql);
    Result<Statement> prepare(std::string_view sql);
    // Prepares, binds `args` and runs a statement that returns no rows.
    template <typename... Args>
    Result<void> run(std::string_view sql, const Args&... args) {
        auto st = BERTH_TRY(prepare(sql));
        BERTH_TRY(st.bind_all(args...));
        return st.run();
    }
    int64_t last_insert_rowid() const;
    int changes() const;  // rows changed by the last statement
    bool in_transaction() const;
    const std::string& path() const { return path_; }
    sqlite3* handle() { return db_; }

    // The schema version of `component` (0 when it has none yet).
    Result<int> schema_version(std::string_view component);
    // Brings `component` to version steps.size() in one IMMEDIATE transaction: steps[i] (SQL)
    // turns version i into i+1. A database newer than `steps` knows is refused (EPROTO), never
    // changed.
    Result<void> migrate(std::string_view component, const std::vector<std::string_view>& steps);

  private:
    Db() = default;
    Error error(int rc, std::string_view what) const;
    sqlite3* db_ = nullptr;
    std::string path_;
};

// BEGIN IMMEDIATE (takes the write lock at once, waiting up to the busy timeout, so a
// read-then-write transaction never fails half-way with SQLITE_BUSY). Rolls back when destroyed
// without commit().
class Transaction {
  public:
    static Result<Transaction> begin(Db& db);
    Transaction(Transaction&&) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    Result<void> commit();
    void rollback();

  private:
    explicit Transaction(Db* db) : db_(db) {}
    Db* db_;
};

}  // namespace berth::db
