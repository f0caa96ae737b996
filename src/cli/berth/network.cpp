// `berth network create|ls|inspect|rm|connect|disconnect` (podman's) and `berth port`. Networks
// are CNI conflists under <root>/networks (engine/network/network_store.h).
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/berth/commands.h"
#include "cli/berth/container_common.h"
#include "cli/berth/table_output.h"
#include "engine/network/dns_service.h"
#include "engine/network/network_store.h"

namespace berth::cli {
namespace {

namespace nw = engine::network;

Result<int> run_create(Context& ctx, const nw::CreateNetworkOptions& o) {
    nw::NetworkStore store(ctx.global.root);
    auto n = BERTH_TRY(store.create(o));
    BERTH_TRY(print_out(n.name + "\n"));
    return 0;
}

struct LsOptions {
    bool quiet = false;
    std::string format;
};

Result<int> run_ls(Context& ctx, const LsOptions& o) {
    nw::NetworkStore store(ctx.global.root);
    auto nets = BERTH_TRY(store.list());
    std::string out;
    if (o.format == "json") {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (const auto& n : nets) all.push_back(nw::network_json(n));
        out = json_text(all);
    } else if (!o.format.empty()) {
        image::Json objs = image::Json::array();
        for (const auto& n : nets) objs.push_back(image::Json::parse(nw::network_json(n).dump()));
        out = BERTH_TRY(render_lines(o.format, objs));
    } else if (o.quiet) {
        for (const auto& n : nets) out += n.name + "\n";
    } else {
        char line[256];
        std::snprintf(line, sizeof(line), "%-14s%-20s%s\n", "NETWORK ID", "NAME", "DRIVER");
        out = line;
        for (const auto& n : nets) {
            std::snprintf(line, sizeof(line), "%-14s%-20s%s\n", n.id.substr(0, 12).c_str(),
                          n.name.c_str(), n.driver.c_str());
            out += line;
        }
    }
    BERTH_TRY(print_out(out));
    return 0;
}

struct NamesOptions {
    std::vector<std::string> names;
    bool force = false;
};

Result<int> run_inspect(Context& ctx, const NamesOptions& o) {
    nw::NetworkStore store(ctx.global.root);
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& name : o.names) all.push_back(nw::network_json(BERTH_TRY(store.get(name))));
    BERTH_TRY(print_out(json_text(all)));
    return 0;
}

Result<int> run_rm(Context& ctx, const NamesOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    nw::NetworkStore store(ctx.global.root);
    for (const auto& name : o.names) {
        auto n = BERTH_TRY(store.get(name));
        if (n.name == nw::kDefaultNetwork) {
            return Error(EINVAL) << "default network " << n.name << " cannot be removed";
        }
        auto users = BERTH_TRY(eng.network_users(n.name));
        if (!users.empty()) {
            if (!o.force) {
                return Error(EBUSY)
                       << "network " << n.name << " is being used by container "
                       << users.front().substr(0, 12) << ": remove it first (or use --force)";
            }
            for (const auto& id : users) {
                auto v = BERTH_TRY(eng.find(id));
                BERTH_TRY(eng.remove(v, true));
            }
        }
        BERTH_TRY(store.remove(n.name));
        BERTH_TRY(nw::dns_stop(ctx.global.runroot, n.name));
        BERTH_TRY(print_out(n.name + "\n"));
    }
    return 0;
}

struct ConnectOptions {
    std::string network, container;
};

Result<int> run_connect(Context& ctx, const ConnectOptions& o, bool connect) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.container));
    if (connect) {
        BERTH_TRY(eng.network_connect(v, o.network));
    } else {
        BERTH_TRY(eng.network_disconnect(v, o.network));
    }
    return 0;
}

struct PortOptions {
    std::string container;
    std::string port;  // PORT[/PROTO]
};

Result<int> run_port(Context& ctx, const PortOptions& o) {
    auto eng = BERTH_TRY(open_engine(ctx));
    auto v = BERTH_TRY(eng.find(o.container));
    auto net = BERTH_TRY(eng.container_net(v.record));
    std::string out;
    std::string want_port = o.port.substr(0, o.port.find('/'));
    std::string want_proto =
        o.port.find('/') == std::string::npos ? "tcp" : o.port.substr(o.port.find('/') + 1);
    for (const auto& m : net.ports) {
        if (o.port.empty()) {
            out += nw::format_port(m) + "\n";
        } else if (std::to_string(m.container_port) == want_port && m.protocol == want_proto) {
            std::string line = nw::format_port(m);
            out += line.substr(line.find("-> ") + 3) + "\n";
        }
    }
    if (!o.port.empty() && out.empty()) {
        return Error(ENOENT) << "no public port " << o.port << " published for " << v.record.name;
    }
    BERTH_TRY(print_out(out));
    return 0;
}

}  // namespace

void add_network_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("network", "manage networks");
    group->require_subcommand(1);

    auto cr = std::make_shared<nw::CreateNetworkOptions>();
    CLI::App* c = group->add_subcommand("create", "create a network");
    c->add_option("--subnet", cr->subnets, "subnet in CIDR form (repeatable)")
        ->allow_extra_args(false);
    c->add_option("--gateway", cr->gateway, "gateway address of the subnet");
    c->add_flag("--ipv6", cr->ipv6, "add an IPv6 subnet (a random ULA /64 unless given)");
    c->add_flag("--internal", cr->internal, "no default route and no masquerade");
    c->add_option("-o,--opt", cr->opts, "driver option: mtu=N")->allow_extra_args(false);
    c->add_option("-d,--driver", cr->driver, "driver (bridge)")->capture_default_str();
    c->add_flag("--disable-dns", cr->disable_dns, "no name resolution between its containers");
    c->add_option("--dns", cr->dns_servers, "upstream DNS server of its containers (repeatable)")
        ->allow_extra_args(false);
    c->add_option("name", cr->name, "network name")->required();
    c->callback([&ctx, cr] { ctx.action = [&ctx, cr] { return run_create(ctx, *cr); }; });

    auto ls = std::make_shared<LsOptions>();
    c = group->add_subcommand("ls", "list networks");
    c->alias("list");
    c->add_flag("-q,--quiet", ls->quiet, "print only the names");
    c->add_option("--format", ls->format, "json or a Go template");
    c->callback([&ctx, ls] { ctx.action = [&ctx, ls] { return run_ls(ctx, *ls); }; });

    auto in = std::make_shared<NamesOptions>();
    c = group->add_subcommand("inspect", "show networks as JSON");
    c->add_option("name", in->names, "network names")->required();
    c->callback([&ctx, in] { ctx.action = [&ctx, in] { return run_inspect(ctx, *in); }; });

    auto rm = std::make_shared<NamesOptions>();
    c = group->add_subcommand("rm", "remove networks");
    c->alias("remove");
    c->add_flag("-f,--force", rm->force, "remove the containers that use it first");
    c->add_option("name", rm->names, "network names")->required();
    c->callback([&ctx, rm] { ctx.action = [&ctx, rm] { return run_rm(ctx, *rm); }; });

    for (bool connect : {true, false}) {
        auto co = std::make_shared<ConnectOptions>();
        c = group->add_subcommand(
            connect ? "connect" : "disconnect",
            connect ? "connect a container to a network" : "disconnect a container from a network");
        c->add_option("network", co->network, "network name")->required();
        c->add_option("container", co->container, "container")->required();
        c->callback([&ctx, co, connect] {
            ctx.action = [&ctx, co, connect] { return run_connect(ctx, *co, connect); };
        });
    }

    auto po = std::make_shared<PortOptions>();
    c = app.add_subcommand("port", "list a container's published ports");
    c->add_option("container", po->container, "container")->required();
    c->add_option("port", po->port, "PRIVATE_PORT[/PROTO]");
    c->callback([&ctx, po] { ctx.action = [&ctx, po] { return run_port(ctx, *po); }; });
}

}  // namespace berth::cli
