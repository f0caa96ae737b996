// The pure rules of layer unpacking: entry names, whiteout names, xattr filtering, overlay
// option escaping.
#include <gtest/gtest.h>

#include "image/snapshot_mount.h"
#include "image/unpack_path.h"

namespace berth::image {
namespace {

using Parts = std::vector<std::string>;

Parts clean(std::string_view name) {
    auto r = clean_entry_path(name);
    EXPECT_TRUE(r.ok()) << name << ": " << r.error().what();
    return r.ok() ? *r : Parts{"<error>"};
}

TEST(ImageUnpackPath, CleansRelativeNames) {
    EXPECT_EQ(clean("etc/passwd"), (Parts{"etc", "passwd"}));
    EXPECT_EQ(clean("./etc//passwd"), (Parts{"etc", "passwd"}));
    EXPECT_EQ(clean("usr/bin/"), (Parts{"usr", "bin"}));
    EXPECT_EQ(clean("a/./b/../c"), (Parts{"a", "c"}));
    EXPECT_EQ(clean("a/.."), Parts{});
    EXPECT_EQ(clean("."), Parts{});
    EXPECT_EQ(clean("./"), Parts{});
    EXPECT_EQ(clean("..."), Parts{"..."});
    EXPECT_EQ(clean(".wh..wh..opq"), Parts{".wh..wh..opq"});
}

TEST(ImageUnpackPath, RefusesEscapesWithEperm) {
    for (std::string_view bad : {"../x", "..", "a/../../x", "./../x", "a/b/../../../etc/passwd"}) {
        auto r = clean_entry_path(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().errno_value(), EPERM) << bad;
        EXPECT_NE(r.error().message().find("escapes the layer directory"), std::string::npos);
        EXPECT_NE(r.error().message().find(std::string(bad)), std::string::npos);
    }
}

TEST(ImageUnpackPath, RefusesAbsoluteNames) {
    for (std::string_view bad : {"/etc/passwd", "/", "//x"}) {
        auto r = clean_entry_path(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().errno_value(), EPERM);
        EXPECT_NE(r.error().message().find("absolute path"), std::string::npos);
    }
    auto empty = clean_entry_path("");
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().errno_value(), EINVAL);
}

TEST(ImageUnpackPath, JoinsComponentsForMessages) {
    EXPECT_EQ(join_components({"a", "b", "c"}, 2), "a/b");
    EXPECT_EQ(join_components({"a"}, 0), ".");
}

TEST(ImageUnpackWhiteout, ClassifiesNames) {
    auto kind = [](std::string_view n) { return classify_whiteout(n)->kind; };
    EXPECT_EQ(kind("passwd"), WhiteoutKind::None);
    EXPECT_EQ(kind(".whatever"), WhiteoutKind::None);
    EXPECT_EQ(kind(".wh"), WhiteoutKind::None);
    EXPECT_EQ(kind(".wh..wh..opq"), WhiteoutKind::Opaque);
    EXPECT_EQ(kind(".wh..wh.plnk"), WhiteoutKind::Ignored);
    EXPECT_EQ(kind(".wh..wh.aufs"), WhiteoutKind::Ignored);
    auto w = classify_whiteout(".wh.removeme");
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->kind, WhiteoutKind::Remove);
    EXPECT_EQ(w->target, "removeme");
    auto dotfile = classify_whiteout(".wh..bashrc");
    ASSERT_TRUE(dotfile.ok());
    EXPECT_EQ(dotfile->kind, WhiteoutKind::Remove);
    EXPECT_EQ(dotfile->target, ".bashrc");
}

TEST(ImageUnpackWhiteout, RefusesWhiteoutsOfTheDirectoryOrItsParent) {
    for (std::string_view bad : {".wh.", ".wh..", ".wh..."}) {
        auto r = classify_whiteout(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().errno_value(), EPERM);
    }
}

TEST(ImageUnpackXattr, FiltersOverlayAndSelinux) {
    EXPECT_TRUE(xattr_allowed("user.test"));
    EXPECT_TRUE(xattr_allowed("security.capability"));
    EXPECT_TRUE(xattr_allowed("trusted.other"));
    EXPECT_FALSE(xattr_allowed("trusted.overlay.opaque"));
    EXPECT_FALSE(xattr_allowed("trusted.overlay.redirect"));
    EXPECT_FALSE(xattr_allowed("security.selinux"));
}

TEST(ImageSnapshotMountOption, EscapesLowerdir) {
    EXPECT_EQ(overlay_lowerdir_option({"/a", "/b"}), "/a:/b");
    EXPECT_EQ(overlay_lowerdir_option({"/x:y", "/p,q", "/b\\s"}), "/x\\:y:/p\\,q:/b\\\\s");
}

}  // namespace
}  // namespace berth::image
