// berth-dns: the name server of one user network (src/net/dns/server.h). The engine starts it
// detached, in the namespace its berth commands run in, once the first container of a
// DNS-enabled network is attached:
//
//   berth-dns --network NAME --dir <runroot>/dns --bridge BRIDGE [--gateway IP]...
//             [--upstream IP]... [--port N] [--ready-fd N]
#include <cstdio>
#include <cstring>
#include <string>

#include <unistd.h>

#include "base/strings.h"
#include "net/dns/server.h"

namespace {

int usage(const char* why) {
    std::fprintf(stderr,
                 "berth-dns: %s\nusage: berth-dns --network NAME --dir DIR --bridge BRIDGE "
                 "[--gateway IP]... [--upstream IP]... [--port N] [--ready-fd N]\n",
                 why);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    berth::net::dns::ServerOptions o;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) return usage(("missing value of " + flag).c_str());
        std::string value = argv[++i];
        if (flag == "--network") {
            o.network = value;
        } else if (flag == "--dir") {
            o.dir = value;
        } else if (flag == "--bridge") {
            o.bridge = value;
        } else if (flag == "--gateway") {
            o.gateways.push_back(value);
        } else if (flag == "--upstream") {
            o.upstreams.push_back(value);
        } else if (flag == "--resolv-conf") {
            o.resolv_conf = value;
        } else if (flag == "--port") {
            auto p = berth::parse_number<uint16_t>(value);
            if (!p || *p == 0) return usage("--port: want 1..65535");
            o.port = *p;
        } else if (flag == "--ready-fd") {
            auto fd = berth::parse_number<int>(value);
            if (!fd || *fd < 0) return usage("--ready-fd: want a descriptor number");
            o.ready_fd = *fd;
        } else {
            return usage(("unknown flag " + flag).c_str());
        }
    }
    if (o.network.empty() || o.dir.empty() || o.bridge.empty()) {
        return usage("--network, --dir and --bridge are required");
    }
    auto rc = berth::net::dns::run_server(o);
    if (!rc.ok()) {
        std::string msg = "e" + rc.error().what();
        // stderr is /dev/null when the engine starts it: the reason goes back on the ready pipe.
        if (o.ready_fd >= 0) (void)!::write(o.ready_fd, msg.data(), msg.size());
        std::fprintf(stderr, "berth-dns: %s\n", msg.c_str() + 1);
        return 1;
    }
    return *rc;
}
