// The SQLite wrapper (db/db.h) on a file in a temporary directory: WAL, statements,
// transactions that roll back, per-component migrations, and two processes writing at once.
#include "db/db.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"

namespace berth::db {
namespace {

class DbTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-db-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/berth.db";
    }
    void TearDown() override { (void)remove_all(dir_); }
    Db open() {
        auto db = Db::open(path_);
        EXPECT_TRUE(db.ok()) << db.error().what();
        return std::move(db).value();
    }
    int64_t count(Db& db, const char* table = "t") {
        auto st = db.prepare(std::string("SELECT count(*) FROM ") + table);
        EXPECT_TRUE(st.ok()) << st.error().what();
        EXPECT_TRUE(*st->step());
        return st->column_int64(0);
    }
    std::string dir_, path_;
};

TEST_F(DbTest, WalAndForeignKeysOn) {
    Db db = open();
    auto st = db.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_text(0), "wal");
    auto fk = db.prepare("PRAGMA foreign_keys");
    ASSERT_TRUE(*fk->step());
    EXPECT_EQ(fk->column_int64(0), 1);
    ASSERT_TRUE(db.exec("CREATE TABLE t(x)").ok());
    EXPECT_TRUE(path_exists(path_ + "-wal"));  // a write goes to the log first
}

TEST_F(DbTest, StatementsBindAndRead) {
    Db db = open();
    ASSERT_TRUE(
        db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE, v INTEGER, b BLOB)")
            .ok());
    ASSERT_TRUE(
        db.run("INSERT INTO t(name, v, b) VALUES(?, ?, ?)", "a", int64_t(1) << 40, nullptr).ok());
    EXPECT_EQ(db.last_insert_rowid(), 1);
    auto ins = db.prepare("INSERT INTO t(name, v, b) VALUES(?, ?, ?)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->bind(1, std::string("with\0nul", 8)).ok());
    ASSERT_TRUE(ins->bind(2, 7).ok());
    ASSERT_TRUE(ins->bind_blob(3, std::string_view("\x00\x01\x02", 3)).ok());
    ASSERT_TRUE(ins->run().ok());
    EXPECT_EQ(db.changes(), 1);

    auto dup = db.run("INSERT INTO t(name) VALUES(?)", "a");
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().errno_value(), EEXIST);
    EXPECT_NE(dup.error().what().find("UNIQUE"), std::string::npos) << dup.error().what();

    auto q = db.prepare("SELECT name, v, b FROM t ORDER BY id");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->column_text(0), "a");
    EXPECT_EQ(q->column_int64(1), int64_t(1) << 40);
    EXPECT_TRUE(q->column_is_null(2));
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->column_text(0), std::string("with\0nul", 8));
    EXPECT_EQ(q->column_text(2), std::string("\x00\x01\x02", 3));
    EXPECT_FALSE(*q->step());

    auto bad = db.prepare("SELEKT 1");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().what().find("SELEKT"), std::string::npos);
}

TEST_F(DbTest, TransactionRollsBackUnlessCommitted) {
    Db db = open();
    ASSERT_TRUE(db.exec("CREATE TABLE t(x INTEGER UNIQUE)").ok());
    {
        auto tx = Transaction::begin(db);
        ASSERT_TRUE(tx.ok());
        EXPECT_TRUE(db.in_transaction());
        ASSERT_TRUE(db.run("INSERT INTO t VALUES(1)").ok());
    }  // destroyed without commit
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(count(db), 0);

    // A function that fails half-way leaves nothing.
    auto insert_two = [&]() -> Result<void> {
        auto tx = BERTH_TRY(Transaction::begin(db));
        BERTH_TRY(db.run("INSERT INTO t VALUES(2)"));
        BERTH_TRY(db.run("INSERT INTO t VALUES(2)"));  // UNIQUE violation
        return tx.commit();
    };
    EXPECT_FALSE(insert_two().ok());
    EXPECT_EQ(count(db), 0);

    {
        auto tx = Transaction::begin(db);
        ASSERT_TRUE(db.run("INSERT INTO t VALUES(3)").ok());
        ASSERT_TRUE(tx->commit().ok());
        EXPECT_FALSE(tx->commit().ok());  // once
    }
    EXPECT_EQ(count(db), 1);
}

TEST_F(DbTest, MigrationsPerComponent) {
    {
        Db db = open();
        EXPECT_EQ(*db.schema_version("images"), 0);
        ASSERT_TRUE(db.migrate("images", {"CREATE TABLE images(name TEXT)"}).ok());
        ASSERT_TRUE(db.migrate("containers", {"CREATE TABLE containers(id TEXT)",
                                              "ALTER TABLE containers ADD COLUMN name TEXT"})
                        .ok());
        EXPECT_EQ(*db.schema_version("images"), 1);
        EXPECT_EQ(*db.schema_version("containers"), 2);
    }
    Db db = open();
    // Re-running is a no-op; adding a step applies only that step.
    ASSERT_TRUE(db.migrate("images", {"CREATE TABLE images(name TEXT)"}).ok());
    ASSERT_TRUE(db.migrate("images", {"CREATE TABLE images(name TEXT)",
                                      "ALTER TABLE images ADD COLUMN tag TEXT"})
                    .ok());
    EXPECT_EQ(*db.schema_version("images"), 2);
    ASSERT_TRUE(db.run("INSERT INTO images(name, tag) VALUES('a', 'b')").ok());

    // A broken step leaves the version and the schema as they were.
    auto broken = db.migrate(
        "images", {"CREATE TABLE images(name TEXT)", "ALTER TABLE images ADD COLUMN tag TEXT",
                   "CREATE TABLE extra(x)", "NOT SQL"});
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.error().what().find("schema version 4"), std::string::npos)
        << broken.error().what();
    EXPECT_EQ(*db.schema_version("images"), 2);
    EXPECT_FALSE(db.prepare("SELECT * FROM extra").ok());

    // A newer database than we know is refused, untouched.
    auto older = db.migrate("images", {"CREATE TABLE images(name TEXT)"});
    ASSERT_FALSE(older.ok());
    EXPECT_EQ(older.error().errno_value(), EPROTO);
    EXPECT_EQ(*db.schema_version("images"), 2);
}

TEST_F(DbTest, TwoProcessesWriteConcurrently) {
    {
        Db db = open();
        ASSERT_TRUE(db.exec("CREATE TABLE t(who INTEGER, n INTEGER)").ok());
    }
    constexpr int kRows = 200;
    auto writer = [&](int who) -> int {
        auto db = Db::open(path_);
        if (!db.ok()) return 1;
        for (int i = 0; i < kRows; ++i) {
            auto tx = Transaction::begin(*db);
            if (!tx.ok()) return 2;
            // Read-then-write inside one transaction: IMMEDIATE makes this safe.
            auto st = db->prepare("SELECT count(*) FROM t WHERE who = ?");
            if (!st.ok() || !st->bind(1, who).ok() || !st->step().ok()) return 3;
            int64_t n = st->column_int64(0);
            st = db->prepare("SELECT 1");  // drop the read statement before commit
            if (!db->run("INSERT INTO t VALUES(?, ?)", who, n).ok()) return 4;
            if (!tx->commit().ok()) return 5;
        }
        return 0;
    };
    pid_t pids[2];
    for (int p = 0; p < 2; ++p) {
        pids[p] = ::fork();
        ASSERT_GE(pids[p], 0);
        if (pids[p] == 0) ::_exit(writer(p));
    }
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    Db db = open();
    EXPECT_EQ(count(db), 2 * kRows);
    // Each writer saw its own rows in order: no lost or duplicated write.
    auto st = db.prepare("SELECT count(DISTINCT n) FROM t WHERE who = 0");
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_int64(0), kRows);
}

TEST_F(DbTest, BusyWithoutTimeoutIsEbusy) {
    Db a = open();
    ASSERT_TRUE(a.exec("CREATE TABLE t(x)").ok());
    auto b = Db::open(path_, Db::Options{.busy_timeout_ms = 0});
    ASSERT_TRUE(b.ok());
    auto tx = Transaction::begin(a);
    ASSERT_TRUE(tx.ok());
    auto tx2 = Transaction::begin(*b);
    ASSERT_FALSE(tx2.ok());
    EXPECT_EQ(tx2.error().errno_value(), EBUSY);
}

TEST_F(DbTest, OpenErrors) {
    auto missing = Db::open(dir_ + "/nope/berth.db");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().what().find("nope/berth.db"), std::string::npos);
    auto no_create = Db::open(dir_ + "/absent.db", Db::Options{.create = false});
    EXPECT_FALSE(no_create.ok());
    ASSERT_TRUE(write_file(dir_ + "/garbage.db", std::string(4096, 'x'), true).ok());
    auto garbage = Db::open(dir_ + "/garbage.db");
    EXPECT_FALSE(garbage.ok());
}

}  // namespace
}  // namespace berth::db
