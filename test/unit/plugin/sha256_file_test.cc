// sha256File: the content address of a plugin build (lower-case hex), checked against the
// FIPS 180-2 test vectors, including one longer than any read buffer.

#include <gtest/gtest.h>

#include <fstream>

#include "common/temp_dir.h"
#include "plugin/plugin_generation.h"

namespace remora::plugin {
namespace {

using test::TempDir;

std::string write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(Sha256FileTest, MatchesKnownDigests) {
  TempDir dir;
  EXPECT_EQ(sha256File(write(dir, "empty", "")).value(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256File(write(dir, "abc", "abc")).value(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256File(write(dir, "million", std::string(1000000, 'a'))).value(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256FileTest, MissingFileNamesThePath) {
  TempDir dir;
  auto sha = sha256File(dir.file("absent.so"));
  ASSERT_FALSE(sha.ok());
  EXPECT_NE(sha.error().find("absent.so: No such file or directory"), std::string::npos)
      << sha.error();
}

}  // namespace
}  // namespace remora::plugin
