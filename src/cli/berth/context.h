// What every `berth` command shares: podman's global options, the action the parsed command
// chose, and small helpers for finding images and printing like podman.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/image_store.h"
#include "image/oci_image.h"

namespace berth::cli {

struct GlobalOptions {
    std::string root = "/var/lib/berth";  // images and metadata
    std::string runroot = "/run/berth";   // runtime state
    std::string log_level = "warn";
    std::string ns = "default";  // -n/--namespace: containers are per namespace (containerd's)
};

// A command's result is its exit status; an Error is printed once as "Error: ..." and exits
// with `failure_exit` (125, berth's own error, unless the command says otherwise).
using Action = std::function<Result<int>()>;

struct Context {
    GlobalOptions global;
    Action action;
    int failure_exit = 125;

    Result<image::ImageStore> open_images() const;
};

// Writes to stdout; EPIPE and friends are errors like any other.
Result<void> print_out(std::string_view text);

// An image named by the user: a name (short names also tried under localhost/, as podman
// does), an ID or ID prefix, or a digest.
struct FoundImage {
    std::optional<image::ImageRecord> record;  // when named by a name
    image::ResolvedImage resolved;             // for this machine's platform
};
Result<FoundImage> find_image(const image::ImageStore& store, const std::string& ref,
                              const image::Platform& platform);

// Normalizes a name as podman does ("busybox" -> "docker.io/library/busybox:latest").
Result<std::string> normalize_name(const std::string& name);

// A name for an image made here (import, tag), as podman names them: a short name goes under
// localhost/ ("mine:1" -> "localhost/mine:1") rather than docker.io.
Result<std::string> local_name(const std::string& name);

// "4.33 MB" (go-units HumanSize: decimal units, three significant digits).
std::string human_size(double bytes);
// "3 hours ago", "About a minute ago" (go-units HumanDuration).
std::string human_ago(const std::string& rfc3339);
// Seconds since the epoch of an RFC 3339 time; nullopt when it does not parse.
std::optional<int64_t> parse_rfc3339(const std::string& text);

// "os/arch[/variant]" as --platform takes it; empty parts default to this machine's.
Result<image::Platform> parse_platform(const std::string& text, const std::string& os,
                                       const std::string& arch, const std::string& variant);

// The sum of a manifest's config and layer blob sizes (compressed, as stored).
int64_t image_size(const image::ResolvedImage& img);

// Podman's --format: "json" or a Go template with {{.Field}}, {{.A.B}} and {{json .X}}
// applied to each object.
Result<std::string> render_template(const std::string& format, const image::Json& object);

// Splits "registry/repo:tag" into "registry/repo" and "tag" ("<none>" when it has none).
std::pair<std::string, std::string> split_repo_tag(const std::string& name);

}  // namespace berth::cli
