#include "base/signals.h"

#include <signal.h>

#include <array>
#include <cctype>
#include <string>

#include "base/strings.h"

namespace berth {
namespace {

struct SignalEntry {
    const char* name;  // without the SIG prefix
    int number;
};

// The first name for a number is the one signal_name() prints.
constexpr SignalEntry kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

// glibc reserves the first two kernel real-time signals for its threads; SIGRTMIN as user
// space (systemd, podman, crun) names it is therefore 34. SIGRTMIN is a function call in
// glibc, so read it at run time rather than hard-coding the number.
int rt_min() {
    return SIGRTMIN;
}
int rt_max() {
    return SIGRTMAX;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::optional<int> parse_rt(std::string_view name) {
    if (name == "RTMIN") return rt_min();
    if (name == "RTMAX") return rt_max();
    if (starts_with(name, "RTMIN+")) {
        auto n = parse_number<int>(name.substr(6));
        if (!n || *n < 0 || rt_min() + *n > rt_max()) return std::nullopt;
        return rt_min() + *n;
    }
    if (starts_with(name, "RTMAX-")) {
        auto n = parse_number<int>(name.substr(6));
        if (!n || *n < 0 || rt_max() - *n < rt_min()) return std::nullopt;
        return rt_max() - *n;
    }
    return std::nullopt;
}

}  // namespace

std::optional<int> signal_from_string(std::string_view s) {
    if (auto n = parse_number<int>(s)) {
        if (*n < 0 || *n > rt_max()) return std::nullopt;
        return n;
    }
    std::string name = upper(s);
    std::string_view bare = name;
    if (starts_with(bare, "SIG")) bare.remove_prefix(3);
    for (const auto& e : kSignals) {
        if (bare == e.name) return e.number;
    }
    return parse_rt(bare);
}

const char* signal_name(int signal) {
    for (const auto& e : kSignals) {
        if (e.number == signal) {
            // Static storage: one "SIG"-prefixed copy per table entry, built once.
            static const auto prefixed = [] {
                std::array<std::string, std::size(kSignals)> names;
                for (size_t i = 0; i < std::size(kSignals); i++) {
                    names[i] = std::string("SIG") + kSignals[i].name;
                }
                return names;
            }();
            return prefixed[static_cast<size_t>(&e - kSignals)].c_str();
        }
    }
    if (signal < rt_min() || signal > rt_max()) return nullptr;
    static const auto rt_names = [] {
        std::array<std::string, 65> names;  // indexed by signal number; SIGRTMAX is 64
        for (int sig = rt_min(); sig <= rt_max() && sig < 65; sig++) {
            int from_min = sig - rt_min();
            int to_max = rt_max() - sig;
            if (from_min == 0) {
                names[sig] = "SIGRTMIN";
            } else if (to_max == 0) {
                names[sig] = "SIGRTMAX";
            } else if (from_min <= to_max) {
                names[sig] = "SIGRTMIN+" + std::to_string(from_min);
            } else {
                names[sig] = "SIGRTMAX-" + std::to_string(to_max);
            }
        }
        return names;
    }();
    if (signal >= static_cast<int>(rt_names.size())) return nullptr;
    return rt_names[signal].c_str();
}

}  // namespace berth
