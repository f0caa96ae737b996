// libarchive, loaded on first use instead of when a program starts. Most berth commands (run,
// ps, stop...) never read or write an archive, yet linking libarchive made each of them load
// it and the ten libraries behind it (compressors, libxml2, ICU): about a millisecond per
// command. These definitions stand in for the functions berth calls; each resolves the real
// one from libarchive.so.13 the first time it runs. The declarations come from archive.h, so a
// definition whose parameters drifted from the header would not link.
//
// The list is the functions the tree calls: a new call needs its line here (the link fails
// with an undefined reference to archive_... until it has one).
#include <archive.h>
#include <archive_entry.h>

#include <cstdarg>
#include <cstdio>

#include "base/lazy_library.h"

#define BERTH_ARCHIVE_CALL(name) BERTH_LAZY_FUNCTION("libarchive.so.13", "libarchive13", name)

time_t archive_entry_atime(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_atime)(p0);
}
int archive_entry_atime_is_set(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_atime_is_set)(p0);
}
long archive_entry_atime_nsec(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_atime_nsec)(p0);
}
struct archive_entry* archive_entry_clear(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_clear)(p0);
}
struct archive_entry* archive_entry_clone(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_clone)(p0);
}
void archive_entry_copy_sourcepath(struct archive_entry* p0, const char* p1) {
    BERTH_ARCHIVE_CALL(archive_entry_copy_sourcepath)(p0, p1);
}
__LA_MODE_T archive_entry_filetype(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_filetype)(p0);
}
void archive_entry_free(struct archive_entry* p0) {
    BERTH_ARCHIVE_CALL(archive_entry_free)(p0);
}
la_int64_t archive_entry_gid(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_gid)(p0);
}
const char* archive_entry_hardlink(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_hardlink)(p0);
}
void archive_entry_linkify(struct archive_entry_linkresolver* p0, struct archive_entry** p1,
                           struct archive_entry** p2) {
    BERTH_ARCHIVE_CALL(archive_entry_linkify)(p0, p1, p2);
}
void archive_entry_linkresolver_free(struct archive_entry_linkresolver* p0) {
    BERTH_ARCHIVE_CALL(archive_entry_linkresolver_free)(p0);
}
struct archive_entry_linkresolver* archive_entry_linkresolver_new(void) {
    return BERTH_ARCHIVE_CALL(archive_entry_linkresolver_new)();
}
void archive_entry_linkresolver_set_strategy(struct archive_entry_linkresolver* p0, int p1) {
    BERTH_ARCHIVE_CALL(archive_entry_linkresolver_set_strategy)(p0, p1);
}
__LA_MODE_T archive_entry_mode(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_mode)(p0);
}
time_t archive_entry_mtime(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_mtime)(p0);
}
long archive_entry_mtime_nsec(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_mtime_nsec)(p0);
}
struct archive_entry* archive_entry_new(void) {
    return BERTH_ARCHIVE_CALL(archive_entry_new)();
}
const char* archive_entry_pathname(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_pathname)(p0);
}
__LA_MODE_T archive_entry_perm(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_perm)(p0);
}
dev_t archive_entry_rdev(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_rdev)(p0);
}
void archive_entry_set_filetype(struct archive_entry* p0, unsigned int p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_filetype)(p0, p1);
}
void archive_entry_set_gid(struct archive_entry* p0, la_int64_t p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_gid)(p0, p1);
}
void archive_entry_set_hardlink(struct archive_entry* p0, const char* p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_hardlink)(p0, p1);
}
void archive_entry_set_mode(struct archive_entry* p0, __LA_MODE_T p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_mode)(p0, p1);
}
void archive_entry_set_mtime(struct archive_entry* p0, time_t p1, long p2) {
    BERTH_ARCHIVE_CALL(archive_entry_set_mtime)(p0, p1, p2);
}
void archive_entry_set_pathname(struct archive_entry* p0, const char* p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_pathname)(p0, p1);
}
void archive_entry_set_perm(struct archive_entry* p0, __LA_MODE_T p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_perm)(p0, p1);
}
void archive_entry_set_rdev(struct archive_entry* p0, dev_t p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_rdev)(p0, p1);
}
void archive_entry_set_size(struct archive_entry* p0, la_int64_t p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_size)(p0, p1);
}
void archive_entry_set_symlink(struct archive_entry* p0, const char* p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_symlink)(p0, p1);
}
void archive_entry_set_uid(struct archive_entry* p0, la_int64_t p1) {
    BERTH_ARCHIVE_CALL(archive_entry_set_uid)(p0, p1);
}
la_int64_t archive_entry_size(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_size)(p0);
}
int archive_entry_size_is_set(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_size_is_set)(p0);
}
const char* archive_entry_symlink(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_symlink)(p0);
}
la_int64_t archive_entry_uid(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_uid)(p0);
}
void archive_entry_unset_size(struct archive_entry* p0) {
    BERTH_ARCHIVE_CALL(archive_entry_unset_size)(p0);
}
int archive_entry_xattr_next(struct archive_entry* p0, const char** p1, const void** p2,
                             size_t* p3) {
    return BERTH_ARCHIVE_CALL(archive_entry_xattr_next)(p0, p1, p2, p3);
}
int archive_entry_xattr_reset(struct archive_entry* p0) {
    return BERTH_ARCHIVE_CALL(archive_entry_xattr_reset)(p0);
}
int archive_errno(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_errno)(p0);
}
const char* archive_error_string(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_error_string)(p0);
}
int archive_filter_code(struct archive* p0, int p1) {
    return BERTH_ARCHIVE_CALL(archive_filter_code)(p0, p1);
}
int archive_format(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_format)(p0);
}
int archive_free(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_free)(p0);
}
la_ssize_t archive_read_data(struct archive* p0, void* p1, size_t p2) {
    return BERTH_ARCHIVE_CALL(archive_read_data)(p0, p1, p2);
}
int archive_read_data_block(struct archive* p0, const void** p1, size_t* p2, la_int64_t* p3) {
    return BERTH_ARCHIVE_CALL(archive_read_data_block)(p0, p1, p2, p3);
}
int archive_read_disk_descend(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_disk_descend)(p0);
}
struct archive* archive_read_disk_new(void) {
    return BERTH_ARCHIVE_CALL(archive_read_disk_new)();
}
int archive_read_disk_open(struct archive* p0, const char* p1) {
    return BERTH_ARCHIVE_CALL(archive_read_disk_open)(p0, p1);
}
int archive_read_disk_set_behavior(struct archive* p0, int p1) {
    return BERTH_ARCHIVE_CALL(archive_read_disk_set_behavior)(p0, p1);
}
int archive_read_disk_set_standard_lookup(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_disk_set_standard_lookup)(p0);
}
int archive_read_free(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_free)(p0);
}
struct archive* archive_read_new(void) {
    return BERTH_ARCHIVE_CALL(archive_read_new)();
}
int archive_read_next_header(struct archive* p0, struct archive_entry** p1) {
    return BERTH_ARCHIVE_CALL(archive_read_next_header)(p0, p1);
}
int archive_read_next_header2(struct archive* p0, struct archive_entry* p1) {
    return BERTH_ARCHIVE_CALL(archive_read_next_header2)(p0, p1);
}
int archive_read_open(struct archive* p0, void* p1, archive_open_callback* p2,
                      archive_read_callback* p3, archive_close_callback* p4) {
    return BERTH_ARCHIVE_CALL(archive_read_open)(p0, p1, p2, p3, p4);
}
int archive_read_open_fd(struct archive* p0, int p1, size_t p2) {
    return BERTH_ARCHIVE_CALL(archive_read_open_fd)(p0, p1, p2);
}
int archive_read_open_filename(struct archive* p0, const char* p1, size_t p2) {
    return BERTH_ARCHIVE_CALL(archive_read_open_filename)(p0, p1, p2);
}
int archive_read_support_filter_all(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_support_filter_all)(p0);
}
int archive_read_support_filter_gzip(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_support_filter_gzip)(p0);
}
int archive_read_support_filter_zstd(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_support_filter_zstd)(p0);
}
int archive_read_support_format_empty(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_support_format_empty)(p0);
}
int archive_read_support_format_gnutar(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_support_format_gnutar)(p0);
}
int archive_read_support_format_raw(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_support_format_raw)(p0);
}
int archive_read_support_format_tar(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_read_support_format_tar)(p0);
}
int archive_write_add_filter_gzip(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_write_add_filter_gzip)(p0);
}
int archive_write_add_filter_none(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_write_add_filter_none)(p0);
}
int archive_write_close(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_write_close)(p0);
}
la_ssize_t archive_write_data(struct archive* p0, const void* p1, size_t p2) {
    return BERTH_ARCHIVE_CALL(archive_write_data)(p0, p1, p2);
}
int archive_write_free(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_write_free)(p0);
}
int archive_write_header(struct archive* p0, struct archive_entry* p1) {
    return BERTH_ARCHIVE_CALL(archive_write_header)(p0, p1);
}
struct archive* archive_write_new(void) {
    return BERTH_ARCHIVE_CALL(archive_write_new)();
}
int archive_write_open(struct archive* p0, void* p1, archive_open_callback* p2,
                       archive_write_callback* p3, archive_close_callback* p4) {
    return BERTH_ARCHIVE_CALL(archive_write_open)(p0, p1, p2, p3, p4);
}
int archive_write_open_fd(struct archive* p0, int p1) {
    return BERTH_ARCHIVE_CALL(archive_write_open_fd)(p0, p1);
}
int archive_write_open_filename(struct archive* p0, const char* p1) {
    return BERTH_ARCHIVE_CALL(archive_write_open_filename)(p0, p1);
}
int archive_write_set_bytes_in_last_block(struct archive* p0, int p1) {
    return BERTH_ARCHIVE_CALL(archive_write_set_bytes_in_last_block)(p0, p1);
}
int archive_write_set_bytes_per_block(struct archive* p0, int p1) {
    return BERTH_ARCHIVE_CALL(archive_write_set_bytes_per_block)(p0, p1);
}
int archive_write_set_filter_option(struct archive* p0, const char* p1, const char* p2,
                                    const char* p3) {
    return BERTH_ARCHIVE_CALL(archive_write_set_filter_option)(p0, p1, p2, p3);
}
int archive_write_set_format_pax_restricted(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_write_set_format_pax_restricted)(p0);
}
int archive_write_set_format_raw(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_write_set_format_raw)(p0);
}

// Used by the unit tests, which build layers with xattrs and zstd compression.
void archive_entry_xattr_add_entry(struct archive_entry* p0, const char* p1, const void* p2,
                                   size_t p3) {
    BERTH_ARCHIVE_CALL(archive_entry_xattr_add_entry)(p0, p1, p2, p3);
}
int archive_write_add_filter_zstd(struct archive* p0) {
    return BERTH_ARCHIVE_CALL(archive_write_add_filter_zstd)(p0);
}

// Variadic: the message is formatted here and passed on as one string.
void archive_set_error(struct archive* a, int err, const char* fmt, ...) {
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    BERTH_ARCHIVE_CALL(archive_set_error)(a, err, "%s", message);
}
