// libFuzzer target for layer unpacking: any tar (an image layer is untrusted registry content)
// is unpacked into a scratch directory or refused, and either way nothing is written outside
// it, and a refused layer leaves the directory empty.
//
// Input: an uncompressed tar.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/file.h"
#include "fuzz_util.h"
#include "image/unpack.h"
#include "image/unpack_tree.h"

using berth::fuzz::expect;
using namespace berth;

namespace {

std::vector<std::string> children(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    expect(d != nullptr);
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

// <scratch>/{base/layer, base/outside/sentinel}: the layer is two levels below scratch so that
// "../x" and "../../x" would both land somewhere this target looks.
struct Scratch {
    std::string scratch, base, layer, outside;
    Scratch() {
        char tmpl[] = "/tmp/berth-layer-fuzz.XXXXXX";
        expect(::mkdtemp(tmpl) != nullptr);
        scratch = tmpl;
        base = scratch + "/base";
        layer = base + "/layer";
        outside = base + "/outside";
        expect(::mkdir(base.c_str(), 0755) == 0 && ::mkdir(layer.c_str(), 0755) == 0 &&
               ::mkdir(outside.c_str(), 0755) == 0);
        expect(write_file(outside + "/sentinel", "x", true).ok());
    }
    ~Scratch() { (void)remove_all(scratch); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Scratch s;
    static int memfd = ::memfd_create("layer", MFD_CLOEXEC);
    expect(memfd >= 0);
    expect(::ftruncate(memfd, 0) == 0);
    expect(::pwrite(memfd, data, size, 0) == static_cast<ssize_t>(size));
    expect(::lseek(memfd, 0, SEEK_SET) == 0);

    auto r = image::unpack_layer(memfd, image::Compression::None, s.layer, {.same_owner = false});
    if (!r.ok()) {
        expect(r.error().errno_value() != 0 && !r.error().message().empty());
        expect(children(s.layer).empty());
    }
    expect(children(s.scratch) == std::vector<std::string>{"base"});
    expect(children(s.base) == (std::vector<std::string>{"layer", "outside"}));
    expect(children(s.outside) == std::vector<std::string>{"sentinel"});

    UniqueFd layer(::open(s.layer.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    expect(layer.valid());
    ::fchmod(layer.get(), 0755);
    expect(image::remove_children_at(layer.get()).ok());
    return 0;
}
