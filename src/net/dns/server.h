// berth-dns's event loop: the responder of one network. It listens on UDP port 53 of the
// network's bridge, answers from the records file (resolver.h) and forwards the rest.
//
// Every address on the bridge is served, not only the gateway: the socket is bound to the
// wildcard address and to the bridge device (SO_BINDTODEVICE), so only queries that arrive on
// the bridge are seen (not an open resolver), and a second address on the bridge works too.
// A wildcard socket's replies would leave with whatever source the routing picks, which a
// client that queried another address of the bridge drops (the multi-homed UDP problem): with
// IP_PKTINFO / IPV6_RECVPKTINFO each query's destination is read and each reply is sent with
// sendmsg from that address. When the wildcard port is taken (another server on *:53 in this
// netns), the gateway addresses are bound one by one instead.
//
// Forwarding is asynchronous: each forwarded query gets its own connected UDP socket (a fresh
// source port and a random id, so only the upstream's answer to it is taken), a 2 s deadline
// per upstream, then the next upstream, then SERVFAIL. The answer goes back with the client's
// id.
//
// Lifetime: the responder holds an exclusive flock on <dir>/<network>.pid while it runs. On
// SIGHUP (and when the records file changes, checked each second) it reloads the records (and,
// without --upstream, /etc/resolv.conf); once they are empty or gone it takes the engine's lock
// <dir>/<network>.lock, looks again, and exits, so an engine that adds an entry under that lock
// either signals a responder that will read it or starts a new one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::net::dns {

struct ServerOptions {
    std::string network;                 // its name: <dir>/<network>.{records,pid,lock}
    std::string dir;                     // <runroot>/dns
    std::string bridge;                  // the network's bridge device
    std::vector<std::string> gateways;   // bound when the wildcard port is taken
    std::vector<std::string> upstreams;  // empty: the nameservers of resolv_conf
    std::string resolv_conf = "/etc/resolv.conf";
    uint16_t port = 53;
    int ready_fd = -1;  // gets one byte once the sockets are bound ('r'), or 'a' if another runs
};

std::string records_path(const std::string& dir, const std::string& network);
std::string pid_path(const std::string& dir, const std::string& network);
std::string lock_path(const std::string& dir, const std::string& network);

// Runs until the records are empty, or SIGTERM/SIGINT. Returns the exit status.
Result<int> run_server(const ServerOptions& options);

}  // namespace berth::net::dns
