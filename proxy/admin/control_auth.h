#pragma once
// Bearer-token authentication of the control listener (admin.control.token_file). The token is
// read once at start-up; every control request must carry "Authorization: Bearer <token>".

#include <string>
#include <string_view>

#include "common/field_error.h"
#include "common/result.h"

namespace remora::admin {

// The token in `path`: the file's content without trailing whitespace (a final newline from an
// editor or `echo` is not part of the token). An unreadable or empty file is an error at
// admin.control.token_file naming the file.
ConfigResult<std::string> readTokenFile(const std::string& path);

// Compares in time that depends only on `given`'s length, never on where the bytes differ, so
// a client timing the 401s learns nothing about the token.
bool constantTimeEquals(std::string_view given, std::string_view expected);

enum class AuthOutcome { kOk, kMissing, kInvalid };

// Checks an Authorization header value against `token`: kMissing when the header is absent or
// is not a Bearer credential, kInvalid when the token differs.
AuthOutcome checkBearer(std::string_view authorization, std::string_view token);

}  // namespace remora::admin
