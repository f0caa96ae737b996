// `berth`'s entry: podman's global options (--root, --runroot, --log-level), then a command.
// Every failure comes back here and is printed once, "Error: <message>", exit status 125
// unless the command chose another (rmi: 1 for an image that does not exist, as podman).
#include "cli/berth/main.h"

#include <unistd.h>

#include <exception>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "base/version.h"
#include "cli/berth/commands.h"
#include "cli/berth/context.h"

namespace berth::cli {
namespace {

void report(std::string_view message) {
    std::string line = "Error: ";
    line += message;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    line += '\n';
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

Result<void> check_globals(const GlobalOptions& g) {
    static constexpr const char* kLevels[] = {"trace",   "debug", "info",  "warn",
                                              "warning", "error", "fatal", "panic"};
    bool known = false;
    for (const char* l : kLevels) known |= g.log_level == l;
    if (!known) {
        return Error(EINVAL) << "log-level `" << g.log_level
                             << "` is not one of trace, debug, info, warn, error, fatal, panic";
    }
    if (g.root.empty()) return Error(EINVAL) << "--root must not be empty";
    if (g.runroot.empty()) return Error(EINVAL) << "--runroot must not be empty";
    if (g.ns.empty() || g.ns.find_first_of("/.") == 0 || g.ns.find('/') != std::string::npos) {
        return Error(EINVAL) << "invalid namespace `" << g.ns << "`";
    }
    return log::configure("", log::Format::Text, g.log_level == "debug" || g.log_level == "trace");
}

// The first word that is not a global option or its value: what the user meant as a command.
std::string first_command_word(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--root" || a == "--runroot" || a == "--log-level" || a == "-n" ||
            a == "--namespace") {
            ++i;
            continue;
        }
        if (a.starts_with("-")) continue;
        return std::string(a);
    }
    return {};
}

}  // namespace

int berth_main(int argc, char** argv) {
    Context ctx;
    CLI::App app{"berth: a daemonless container engine with podman's command line", "berth"};
    app.fallthrough();
    app.set_version_flag("-v,--version", std::string("berth version ") + berth::version());
    app.add_option("--root", ctx.global.root, "storage root: images and metadata")
        ->capture_default_str();
    app.add_option("--runroot", ctx.global.runroot, "runtime state directory")
        ->capture_default_str();
    app.add_option("--log-level", ctx.global.log_level,
                   "log messages at and above: debug, info, warn, error")
        ->capture_default_str();
    app.add_option("-n,--namespace", ctx.global.ns, "namespace of the containers")
        ->capture_default_str();
    // The command table, in groups. Building all of it costs about a millisecond, a third of
    // what a command like `berth ps` spends before its own work: stop after the group that
    // defines the command asked for. Help, `container` (which every group adds to) and words
    // that name no command get the whole table.
    std::string word = first_command_word(argc, argv);
    auto found = [&] {
        if (word.empty() || word == "container") return false;
        return !app.get_subcommands([&](CLI::App* s) { return s->check_name(word); }).empty();
    };
    const std::function<void()> groups[] = {
        [&] { add_container_commands(app, ctx); },
        [&] { add_image_commands(app, ctx); },
        [&] {
            add_container_resource_commands(app, ctx);
            add_container_resource_commands(*app.get_subcommand("container"), ctx);
        },
        [&] {
            for (CLI::App* parent : {&app, app.get_subcommand("container")}) {
                add_container_restart(*parent, ctx, "restart");
                add_container_cp(*parent, ctx, "cp");
            }
            add_container_info(*app.get_subcommand("container"), ctx, "info");
        },
        [&] { add_volume_commands(app, ctx); },
        [&] { add_network_commands(app, ctx); },
        [&] { add_task_commands(app, ctx); },
        [&] { add_namespace_commands(app, ctx); },
    };
    for (const auto& add_group : groups) {
        add_group();
        if (found()) break;
    }
    app.require_subcommand(1);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::RequiredError& e) {
        if (app.get_subcommands().empty()) {
            std::string cmd = first_command_word(argc, argv);
            if (cmd.empty()) {
                (void)print_out(app.help());
                report("missing command 'berth COMMAND'");
            } else {
                report("unrecognized command `berth " + cmd +
                       "`\nTry 'berth --help' for more information");
            }
            return 125;
        }
        // A command group without its command: name the group, as podman does.
        std::string path = "berth";
        for (CLI::App* sub = &app; !sub->get_subcommands().empty();) {
            sub = sub->get_subcommands().front();
            path += " " + sub->get_name();
        }
        if (std::string_view(e.what()).find("subcommand") != std::string_view::npos) {
            report("missing command '" + path + " COMMAND'");
        } else {
            report(e.what());
        }
        return 125;
    } catch (const CLI::ParseError& e) {
        report(e.what());
        return 125;
    }

    auto checked = check_globals(ctx.global);
    if (!checked.ok()) {
        report(checked.error().what());
        return 125;
    }
    if (!ctx.action) {
        report("missing command");
        return 125;
    }
    try {
        auto r = ctx.action();
        if (r.ok()) return *r;
        report(r.error().what());
    } catch (const std::exception& e) {  // a library's exception must still end as one line
        report(e.what());
    }
    return ctx.failure_exit;
}

}  // namespace berth::cli
