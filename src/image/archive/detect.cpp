// Telling the archive formats apart, as `podman load` does.
#include <archive_entry.h>

#include "base/file.h"
#include "image/archive/archive.h"
#include "image/archive/tar_io.h"

namespace berth::image {

Result<std::vector<NamedImage>> import_any(ContentStore& store, const std::string& path) {
    if (is_directory(path)) {
        if (path_exists(path_join(path, "oci-layout"))) return import_oci_layout(store, path);
        return Error(EINVAL) << "`" << path << "` is a directory without an oci-layout file";
    }
    if (!path_exists(path)) return Error(ENOENT) << "`" << path << "` does not exist";
    // The first entries tell: an OCI layout's index.json wins over a manifest.json that some
    // archives (docker 25+, make-busybox-image.sh) carry as well.
    bool has_layout = false, has_index = false, has_docker = false;
    {
        tar::Reader r = BERTH_TRY(tar::Reader::open_file(path));
        while (BERTH_TRY(r.next())) {
            if (r.type() != AE_IFREG) continue;
            if (r.path() == "oci-layout") has_layout = true;
            if (r.path() == "index.json") has_index = true;
            if (r.path() == "manifest.json") has_docker = true;
        }
    }
    if (has_layout && has_index) return import_oci_archive(store, path);
    if (has_docker) return import_docker_archive(store, path);
    return Error(EINVAL) << "`" << path
                         << "` is neither an oci-archive (oci-layout, index.json) nor a "
                            "docker-archive (manifest.json)";
}

}  // namespace berth::image
