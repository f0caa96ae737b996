// Attaching containers to networks through the CNI driver (net/cnidriver): ADD when a task
// starts (after its netns exists), DEL when the container stops or goes, GC against the list of
// attachments that should exist. Plugins are looked for next to the berth executable, then in
// /usr/lib/cni; the result cache is <runroot>/cni and host-local's dataDir <runroot>/cni/networks
// (set here when the conflist names none, so a reboot's fresh run root forgets stale leases).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "engine/network/container_net.h"
#include "engine/network/network_store.h"
#include "net/cnidriver/driver.h"

namespace berth::engine::network {

// What ADD gave one interface.
struct AttachResult {
    std::string network, ifname;
    std::vector<std::string> addresses;  // "10.88.0.2/16"
    std::vector<std::string> gateways;
    std::string mac;
};

class Attacher {
  public:
    Attacher(const std::string& root, const std::string& runroot);

    // ADD of one attachment in `netns`; `ports` only for the container's first network.
    Result<AttachResult> add(const NetworkInfo& network, const std::string& container_id,
                             const std::string& netns, const NetworkAttachment& att,
                             const std::vector<PortMapping>& ports);
    // DEL, with the configuration ADD used (from the cache). Nothing cached: nothing to do (so
    // a second release is cheap); what a killed ADD left is gc's.
    Result<void> del(const std::string& network, const std::string& container_id,
                     const std::string& netns, const std::string& ifname);
    // What is cached for an attachment (empty addresses when nothing).
    Result<AttachResult> cached(const std::string& network, const std::string& container_id,
                                const std::string& ifname);
    // GC of every network with a conflist or a cached attachment: DEL of cached attachments not
    // in `valid`, then the plugins' GC. Returns one line per attachment removed.
    Result<std::vector<std::string>> gc(const std::vector<net::cnidriver::Attachment>& valid);

  private:
    // The network's list with the run root's dataDir filled in.
    Result<net::cnidriver::NetworkConfigList> load(const std::string& bytes,
                                                   const std::string& source) const;

    NetworkStore store_;
    std::string runroot_;
    net::cnidriver::CniDriver driver_;
};

}  // namespace berth::engine::network
