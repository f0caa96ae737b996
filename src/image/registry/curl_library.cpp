#include "image/registry/curl_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace berth::image::registry {
namespace {

constexpr const char kSoname[] = "libcurl.so.4";

template <typename Fn>
bool bind(void* lib, const char* name, Fn& out, std::string& missing) {
    out = reinterpret_cast<Fn>(dlsym(lib, name));
    if (!out && missing.empty()) missing = name;
    return out != nullptr;
}

}  // namespace

Result<const CurlLibrary*> curl_library() {
    static std::once_flag once;
    static CurlLibrary lib;
    static std::string failure;
    std::call_once(once, [] {
        void* handle = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* why = dlerror();
            failure = why ? why : "dlopen failed";
            return;
        }
        std::string missing;
        bind(handle, "curl_global_init", lib.global_init, missing);
        bind(handle, "curl_easy_init", lib.easy_init, missing);
        bind(handle, "curl_easy_cleanup", lib.easy_cleanup, missing);
        bind(handle, "curl_easy_reset", lib.easy_reset, missing);
        bind(handle, "curl_easy_setopt", lib.easy_setopt, missing);
        bind(handle, "curl_easy_getinfo", lib.easy_getinfo, missing);
        bind(handle, "curl_easy_perform", lib.easy_perform, missing);
        bind(handle, "curl_easy_strerror", lib.easy_strerror, missing);
        bind(handle, "curl_easy_escape", lib.easy_escape, missing);
        bind(handle, "curl_free", lib.free, missing);
        bind(handle, "curl_slist_append", lib.slist_append, missing);
        bind(handle, "curl_slist_free_all", lib.slist_free_all, missing);
        if (!missing.empty()) {
            failure = "no function " + missing;
            return;
        }
        // The handle stays open for the process's life: the functions above point into it.
        if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) failure = "curl_global_init failed";
    });
    if (!failure.empty()) {
        return Error(ENOENT) << "loading " << kSoname << " (the registry client's HTTP library; "
                             << "Debian package libcurl4): " << failure;
    }
    return &lib;
}

}  // namespace berth::image::registry
