// The control listener's bearer token: reading the token file, the constant-time compare and
// the Authorization header check.

#include "admin/control_auth.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/temp_dir.h"

namespace remora::admin {
namespace {

TEST(ControlAuthTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("s3cret", "s3cret"));
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_FALSE(constantTimeEquals("s3cret", "s3creT"));
  EXPECT_FALSE(constantTimeEquals("s3cre", "s3cret"));         // a prefix
  EXPECT_FALSE(constantTimeEquals("s3crets3cret", "s3cret"));  // the token repeated
  EXPECT_FALSE(constantTimeEquals("s3cret ", "s3cret"));
  EXPECT_FALSE(constantTimeEquals("", "s3cret"));
  EXPECT_FALSE(constantTimeEquals("x", ""));
  EXPECT_FALSE(constantTimeEquals(std::string("s3\0ret", 6), "s3cret"));
}

TEST(ControlAuthTest, CheckBearer) {
  EXPECT_EQ(checkBearer("Bearer t0ken", "t0ken"), AuthOutcome::kOk);
  EXPECT_EQ(checkBearer("bearer t0ken", "t0ken"), AuthOutcome::kOk);
  EXPECT_EQ(checkBearer("BEARER   t0ken  ", "t0ken"), AuthOutcome::kOk);
  EXPECT_EQ(checkBearer("Bearer t0ke", "t0ken"), AuthOutcome::kInvalid);
  EXPECT_EQ(checkBearer("Bearer  ", "t0ken"), AuthOutcome::kInvalid);
  EXPECT_EQ(checkBearer("", "t0ken"), AuthOutcome::kMissing);
  EXPECT_EQ(checkBearer("Bearer", "t0ken"), AuthOutcome::kMissing);
  EXPECT_EQ(checkBearer("Basic dDBrZW4=", "t0ken"), AuthOutcome::kMissing);
  EXPECT_EQ(checkBearer("t0ken", "t0ken"), AuthOutcome::kMissing);
}

TEST(ControlAuthTest, TokenFileIsReadWithoutTrailingWhitespace) {
  test::TempDir dir;
  const std::string path = dir.file("token");
  std::ofstream(path) << "  s3cret token\r\n\n";
  auto token = readTokenFile(path);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token.value(), "  s3cret token");

  std::ofstream(path) << " \n";
  auto empty = readTokenFile(path);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(toLines(empty.error()),
            "admin.control.token_file: " + path + ": the token file is empty");

  auto missing = readTokenFile(dir.file("absent"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(toLines(missing.error()), "admin.control.token_file: " + dir.file("absent") +
                                          ": cannot open: No such file or directory");
}

}  // namespace
}  // namespace remora::admin
