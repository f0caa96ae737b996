// berth-init's command line: flags, values, usage errors, where the command starts.
#include <gtest/gtest.h>
#include <signal.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "init/options.h"

namespace berth::init {
namespace {

// Holds argv storage for one parse.
struct Argv {
    explicit Argv(std::initializer_list<const char*> args) {
        storage.emplace_back("berth-init");
        for (const char* a : args) storage.emplace_back(a);
        for (auto& s : storage) pointers.push_back(s.data());
        pointers.push_back(nullptr);
    }
    int argc() const { return static_cast<int>(storage.size()); }
    char** argv() { return pointers.data(); }
    std::vector<std::string> storage;
    std::vector<char*> pointers;
};

ParseResult parse(Argv& args, Options& out) {
    return parse_options(args.argc(), args.argv(), out);
}

TEST(InitOptions, DefaultsAndCommand) {
    Argv args{"sleep", "10"};
    Options o;
    ASSERT_EQ(parse(args, o).action, ParseAction::kRun);
    EXPECT_EQ(o.verbosity, kWarn);
    EXPECT_FALSE(o.subreaper);
    EXPECT_FALSE(o.process_group);
    EXPECT_FALSE(o.pause);
    EXPECT_EQ(o.parent_death_signal, 0);
    ASSERT_NE(o.command, nullptr);
    EXPECT_STREQ(o.command[0], "sleep");
    EXPECT_STREQ(o.command[1], "10");
    EXPECT_EQ(o.command[2], nullptr);
}

TEST(InitOptions, ClusteredFlagsAndValues) {
    Argv args{"-sgw", "-vv", "-e3", "-e", "143", "-pSIGKILL", "--", "-x", "-y"};
    Options o;
    ASSERT_EQ(parse(args, o).action, ParseAction::kRun);
    EXPECT_TRUE(o.subreaper);
    EXPECT_TRUE(o.process_group);
    EXPECT_TRUE(o.warn_on_reap);
    EXPECT_EQ(o.verbosity, kDebug);
    EXPECT_TRUE(o.expected_codes.contains(3));
    EXPECT_TRUE(o.expected_codes.contains(143));
    EXPECT_FALSE(o.expected_codes.contains(0));
    EXPECT_FALSE(o.expected_codes.contains(4));
    EXPECT_EQ(o.parent_death_signal, SIGKILL);
    EXPECT_STREQ(o.command[0], "-x");  // after "--" everything is the command
    EXPECT_STREQ(o.command[1], "-y");
}

TEST(InitOptions, OptionsStopAtTheCommand) {
    Argv args{"-s", "ls", "-l", "-g"};
    Options o;
    ASSERT_EQ(parse(args, o).action, ParseAction::kRun);
    EXPECT_TRUE(o.subreaper);
    EXPECT_FALSE(o.process_group);  // -g belongs to ls
    EXPECT_STREQ(o.command[0], "ls");
    EXPECT_STREQ(o.command[1], "-l");
}

TEST(InitOptions, VerbosityIsCappedAndQuietResets) {
    Argv loud{"-vvvvvvv", "true"};
    Options o;
    ASSERT_EQ(parse(loud, o).action, ParseAction::kRun);
    EXPECT_EQ(o.verbosity, kTrace);
    Argv quiet{"-q", "true"};
    Options q;
    ASSERT_EQ(parse(quiet, q).action, ParseAction::kRun);
    EXPECT_EQ(q.verbosity, kFatal);
}

TEST(InitOptions, DeathSignalForms) {
    for (const char* form : {"SIGTERM", "TERM", "term", "15"}) {
        Argv args{"-p", form, "true"};
        Options o;
        ASSERT_EQ(parse(args, o).action, ParseAction::kRun) << form;
        EXPECT_EQ(o.parent_death_signal, SIGTERM) << form;
    }
}

TEST(InitOptions, Pause) {
    Argv args{"--pause"};
    Options o;
    ASSERT_EQ(parse(args, o).action, ParseAction::kRun);
    EXPECT_TRUE(o.pause);
    EXPECT_EQ(o.command, nullptr);
}

TEST(InitOptions, HelpAndVersion) {
    for (const char* flag : {"-h", "--help"}) {
        Argv args{flag};
        Options o;
        EXPECT_EQ(parse(args, o).action, ParseAction::kHelp) << flag;
    }
    Argv args{"--version"};
    Options o;
    EXPECT_EQ(parse(args, o).action, ParseAction::kVersion);
}

struct BadCase {
    std::vector<const char*> args;
    const char* message;
};

TEST(InitOptions, UsageErrors) {
    const BadCase cases[] = {
        {{}, "no command given"},
        {{"-s"}, "no command given"},
        {{"-x", "true"}, "unknown option `-x`"},
        {{"-sx", "true"}, "unknown option `-x`"},
        {{"--frobnicate", "true"}, "unknown option `--frobnicate`"},
        {{"-e"}, "option -e needs a value"},
        {{"-p"}, "option -p needs a value"},
        {{"-e", "256", "true"}, "not a valid exit code for -e: `256`"},
        {{"-e", "-1", "true"}, "not a valid exit code for -e: `-1`"},
        {{"-e", "3x", "true"}, "not a valid exit code for -e: `3x`"},
        {{"-p", "SIGFOO", "true"}, "not a valid signal for -p: `SIGFOO`"},
        {{"-p", "0", "true"}, "not a valid signal for -p: `0`"},
        {{"-p", "65", "true"}, "not a valid signal for -p: `65`"},
        {{"--pause", "sleep"}, "--pause takes no command, got `sleep`"},
    };
    for (const auto& c : cases) {
        Argv args{};
        for (const char* a : c.args) args.storage.emplace_back(a);
        args.pointers.clear();
        for (auto& s : args.storage) args.pointers.push_back(s.data());
        args.pointers.push_back(nullptr);
        Options o;
        const ParseResult r = parse(args, o);
        EXPECT_EQ(r.action, ParseAction::kUsageError) << c.message;
        EXPECT_STREQ(r.error, c.message);
    }
}

TEST(InitOptions, ExitCodeSetBounds) {
    ExitCodeSet set;
    set.add(0);
    set.add(63);
    set.add(64);
    set.add(255);
    set.add(256);  // ignored
    EXPECT_TRUE(set.contains(0));
    EXPECT_TRUE(set.contains(63));
    EXPECT_TRUE(set.contains(64));
    EXPECT_TRUE(set.contains(255));
    EXPECT_FALSE(set.contains(1));
    EXPECT_FALSE(set.contains(256));
    EXPECT_FALSE(set.contains(-1));
}

}  // namespace
}  // namespace berth::init
