#include "init/options.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/strings.h"
#include "init/signals.h"

namespace berth::init {
namespace {

ParseResult usage_error(const char* fmt, const char* arg) {
    ParseResult r;
    r.action = ParseAction::kUsageError;
    snprintf(r.error, sizeof(r.error), fmt, arg);
    return r;
}

ParseResult parse_expected_code(const char* text, Options& out) {
    auto code = parse_number<unsigned>(text);
    if (!code || *code > 255) return usage_error("not a valid exit code for -e: `%s`", text);
    out.expected_codes.add(*code);
    return {};
}

ParseResult parse_death_signal(const char* text, Options& out) {
    int sig = parse_signal(text);
    if (sig <= 0) return usage_error("not a valid signal for -p: `%s`", text);
    out.parent_death_signal = sig;
    return {};
}

ParseResult parse_long(const char* arg, Options& out) {
    if (strcmp(arg, "--version") == 0) return {ParseAction::kVersion, {}};
    if (strcmp(arg, "--help") == 0) return {ParseAction::kHelp, {}};
    if (strcmp(arg, "--pause") == 0) {
        out.pause = true;
        return {};
    }
    return usage_error("unknown option `%s`", arg);
}

}  // namespace

ParseResult parse_options(int argc, char** argv, Options& out) {
    int i = 1;
    for (; i < argc; i++) {
        const char* arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') break;  // the command; "-" alone is one too
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[1] == '-') {
            ParseResult r = parse_long(arg, out);
            if (r.action != ParseAction::kRun) return r;
            continue;
        }
        // A cluster of short flags: -vvv, -sg, -e3, -e 3, -pSIGKILL, -p SIGKILL.
        for (const char* p = arg + 1; *p != '\0';) {
            const char flag = *p++;
            switch (flag) {
                case 's':
                    out.subreaper = true;
                    break;
                case 'g':
                    out.process_group = true;
                    break;
                case 'w':
                    out.warn_on_reap = true;
                    break;
                case 'v':
                    if (out.verbosity < kTrace) out.verbosity++;
                    break;
                case 'q':
                    out.verbosity = kFatal;
                    break;
                case 'h':
                    return {ParseAction::kHelp, {}};
                case 'e':
                case 'p': {
                    // The value is the rest of this argument, or else the next one.
                    const char* value = *p != '\0' ? p : (i + 1 < argc ? argv[++i] : nullptr);
                    if (value == nullptr) {
                        return usage_error("option -%s needs a value", flag == 'e' ? "e" : "p");
                    }
                    ParseResult r = flag == 'e' ? parse_expected_code(value, out)
                                                : parse_death_signal(value, out);
                    if (r.action != ParseAction::kRun) return r;
                    p += strlen(p);
                    break;
                }
                default: {
                    const char name[3] = {'-', flag, '\0'};
                    return usage_error("unknown option `%s`", name);
                }
            }
        }
    }
    if (out.pause) {
        if (i < argc) return usage_error("--pause takes no command, got `%s`", argv[i]);
        return {};
    }
    if (i >= argc) return usage_error("no command given%s", "");
    out.command = argv + i;
    return {};
}

void print_usage(int fd, const char* argv0) {
    dprintf(fd,
            "Usage: %s [OPTIONS] [--] COMMAND [ARGS...]\n"
            "       %s [OPTIONS] --pause\n"
            "       %s --version\n"
            "\n"
            "Runs COMMAND as its child and does PID 1's duties: reaps every zombie, forwards\n"
            "signals, and exits with the child's status (128+N when killed by signal N).\n"
            "\n"
            "  -s          register as a child subreaper when not PID 1\n"
            "  -p SIGNAL   ask for SIGNAL when the parent dies (e.g. -p SIGKILL)\n"
            "  -g          forward signals to the child's process group\n"
            "  -e CODE     report exit code CODE (0-255) as 0; repeatable\n"
            "  -w          warn about every zombie reaped that is not the child\n"
            "  -v          more messages on stderr; repeat up to 3 times\n"
            "  -q          fatal errors only\n"
            "  --pause     no command: sleep, reap, exit 0 on SIGTERM or SIGINT\n"
            "  -h, --help  show this text\n"
            "  --version   show the version\n",
            argv0, argv0, argv0);
}

}  // namespace berth::init
