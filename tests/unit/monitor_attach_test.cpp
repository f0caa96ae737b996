// berth-monitor's attach server: --attach-fd and --console-size parsing, a reliable client
// that holds output back instead of being dropped, and a client's half-close as stdin's end.
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/file.h"
#include "engine/monitor/attach.h"
#include "engine/monitor/options.h"

namespace berth::monitor {
namespace {

Result<ParseOutcome> parse(std::vector<const char*> args) {
    std::vector<const char*> all = {"berth-monitor", "--runtime", "/rt",        "--bundle", "/b",
                                    "--id",          "c",         "--task-dir", "/t"};
    all.insert(all.end(), args.begin(), args.end());
    return parse_options(static_cast<int>(all.size()), all.data());
}

TEST(MonitorAttachOptions, AttachFdAndConsoleSize) {
    auto r = parse({"--attach-fd", "4", "--console-size", "40x120", "--terminal", "--stdin"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->options.attach_fd, 4);
    EXPECT_EQ(r->options.console_rows, 40);
    EXPECT_EQ(r->options.console_cols, 120);
    EXPECT_TRUE(r->options.terminal);
    EXPECT_TRUE(r->options.stdin_pipe);
    auto none = parse({});
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->options.attach_fd, -1);
    EXPECT_EQ(none->options.console_rows, 0);
    for (const char* bad : {"40", "x80", "0x80", "40x", "40x80x1", "axb"}) {
        auto b = parse({"--console-size", bad});
        ASSERT_FALSE(b.ok()) << bad;
        EXPECT_NE(b.error().what().find("--console-size"), std::string::npos);
    }
    EXPECT_FALSE(parse({"--attach-fd", "1"}).ok());
}

class AttachServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-attach-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        auto s = AttachServer::listen(path_join(dir_, "attach.sock"));
        ASSERT_TRUE(s.ok()) << s.error().what();
        server_.emplace(std::move(*s));
    }
    void TearDown() override {
        server_.reset();
        (void)remove_all(dir_);
    }
    // One round of the monitor's loop for the clients only.
    void poll_once(std::string& input, int& eofs) {
        std::vector<pollfd> fds;
        server_->add_poll_fds(fds, true);
        ASSERT_GE(::poll(fds.data(), fds.size(), 1000), 0);
        server_->handle_poll(
            fds, [&](std::string_view d) { input.append(d); }, [&] { eofs++; });
    }
    std::string dir_;
    std::optional<AttachServer> server_;
};

TEST_F(AttachServerTest, ReliableClientHoldsOutputBack) {
    auto pair = make_socketpair(SOCK_SEQPACKET | SOCK_NONBLOCK);
    ASSERT_TRUE(pair.ok());
    server_->add_reliable_client(std::move(pair->second));
    std::string chunk(8192, 'x');
    int sent = 0;
    while (!server_->blocked() && sent < 10000) {
        server_->broadcast(Stream::kStdout, chunk);
        sent++;
    }
    ASSERT_TRUE(server_->blocked()) << "the socket never filled";
    EXPECT_EQ(server_->client_count(), 1u) << "a reliable client is never dropped";
    // A packet more while blocked joins the queue, in order.
    server_->broadcast(Stream::kStderr, "last");
    sent++;
    int got = 0;
    std::string last;
    char buf[16384];
    std::string input;
    int eofs = 0;
    for (int i = 0; i < 100000 && got < sent; i++) {
        ssize_t n = ::recv(pair->first.get(), buf, sizeof(buf), 0);
        if (n > 0) {
            got++;
            last.assign(buf, size_t(n));
        } else {
            poll_once(input, eofs);  // POLLOUT: the queue moves on
        }
    }
    EXPECT_EQ(got, sent);
    EXPECT_EQ(last, std::string("\x02last"));
    EXPECT_FALSE(server_->blocked());
}

TEST_F(AttachServerTest, SlowOrdinaryClientIsDropped) {
    auto pair = make_socketpair(SOCK_SEQPACKET | SOCK_NONBLOCK);
    ASSERT_TRUE(pair.ok());
    // What accept gives: an ordinary client (connected through attach.sock).
    UniqueFd c(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    std::string sock = path_join(dir_, "attach.sock");
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
    ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    server_->accept_clients();
    ASSERT_EQ(server_->client_count(), 1u);
    std::string chunk(8192, 'x');
    for (int i = 0; i < 10000 && server_->client_count() > 0; i++) {
        server_->broadcast(Stream::kStdout, chunk);
    }
    EXPECT_EQ(server_->client_count(), 0u);
    EXPECT_FALSE(server_->blocked());
}

TEST_F(AttachServerTest, HalfCloseIsEndOfInput) {
    auto pair = make_socketpair(SOCK_SEQPACKET | SOCK_NONBLOCK);
    ASSERT_TRUE(pair.ok());
    server_->add_reliable_client(std::move(pair->second));
    ASSERT_EQ(::send(pair->first.get(), "hi\n", 3, 0), 3);
    ASSERT_EQ(::shutdown(pair->first.get(), SHUT_WR), 0);
    std::string input;
    int eofs = 0;
    poll_once(input, eofs);
    poll_once(input, eofs);
    EXPECT_EQ(input, "hi\n");
    EXPECT_EQ(eofs, 1);
    EXPECT_EQ(server_->client_count(), 1u) << "still a reader of the output";
    server_->broadcast(Stream::kStdout, "out");
    char buf[16];
    ASSERT_EQ(::recv(pair->first.get(), buf, sizeof(buf), 0), 4);
    // A full close is a drop, not an end of input.
    pair->first.reset();
    poll_once(input, eofs);
    EXPECT_EQ(eofs, 1);
    EXPECT_EQ(server_->client_count(), 0u);
}

}  // namespace
}  // namespace berth::monitor
