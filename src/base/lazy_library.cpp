#include "base/lazy_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace berth {
namespace {

[[noreturn]] void fail(const char* soname, const char* package, const std::string& what) {
    std::string line = std::string("berth: loading ") + soname + " (Debian package " + package +
                       "): " + what + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    std::abort();
}

}  // namespace

void* lazy_symbol(const char* soname, const char* package, const char* name) {
    static std::mutex mu;
    static std::map<std::string, void*> handles;
    void* handle;
    {
        std::lock_guard lock(mu);
        void*& h = handles[soname];
        if (!h) h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* why = dlerror();
            fail(soname, package, why ? why : "dlopen failed");
        }
        handle = h;
    }
    void* fn = dlsym(handle, name);
    if (!fn) fail(soname, package, std::string("no function ") + name);
    return fn;
}

}  // namespace berth
