// libcurl, loaded when a registry is first contacted instead of when `berth` starts: libcurl
// and the two dozen libraries it needs (TLS, Kerberos, LDAP, IDN...) cost every berth command
// about 4 ms of loading and relocation, and only pull, push and login use them.
#pragma once

#include <curl/curl.h>

#include "base/result.h"

namespace berth::image::registry {

struct CurlLibrary {
    decltype(&::curl_global_init) global_init;
    decltype(&::curl_easy_init) easy_init;
    decltype(&::curl_easy_cleanup) easy_cleanup;
    decltype(&::curl_easy_reset) easy_reset;
    decltype(&::curl_easy_setopt) easy_setopt;  // variadic, called as curl_easy_setopt is
    decltype(&::curl_easy_getinfo) easy_getinfo;
    decltype(&::curl_easy_perform) easy_perform;
    decltype(&::curl_easy_strerror) easy_strerror;
    decltype(&::curl_easy_escape) easy_escape;
    decltype(&::curl_free) free;
    decltype(&::curl_slist_append) slist_append;
    decltype(&::curl_slist_free_all) slist_free_all;
};

// libcurl.so.4, opened and initialised (curl_global_init) once per process; ENOENT naming the
// library and dlerror()'s text when it or one of its functions is missing.
Result<const CurlLibrary*> curl_library();

}  // namespace berth::image::registry
