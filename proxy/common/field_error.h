#pragma once
// FieldError / FieldErrors: why a config was refused, as data. Each stage that checks a config
// (the loader, the listen sockets, every plugin's config_new) adds one FieldError per problem
// it finds, and every place that reports a refusal (the admin API's JSON, the etcd NACK,
// `--validate`, the logs) reads that same list:
//   path     the exact field path, "clusters[1].endpoints[0]" or
//            "listeners[0].filters[1].config.rules[0].rate"; for a syntax error
//            "ORIGIN:LINE:COLUMN", for a problem with the whole document its origin ("config",
//            the file name), and empty when no field is meant
//   message  what is wrong there, in full
//   block    set only when a plugin refused its config and named a field inside it: the path of
//            the block it was given ("listeners[0].filters[1].config"), which `path` begins with
// Nothing parses `path` or `message` again: either may hold ": " or a newline (a quoted key, a
// plugin's wording). The text forms below are for people and logs, never read back.

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace remora {

struct FieldError {
  FieldError(std::string path, std::string message, std::string block = {})
      : path(std::move(path)), message(std::move(message)), block(std::move(block)) {}

  std::string path;
  std::string message;
  std::string block;

  // "path: message", or the message alone when there is no path.
  std::string str() const;
  // As the stage that found it worded it: a plugin's "block: field: message", else str().
  // `--validate` prints this form.
  std::string asWritten() const;

  bool operator==(const FieldError&) const = default;
};

using FieldErrors = std::vector<FieldError>;

template <typename T>
using ConfigResult = Result<T, FieldErrors>;
using ConfigStatus = BasicStatus<FieldErrors>;

// One str() per line, no trailing newline.
std::string toLines(const FieldErrors& errors);
void append(FieldErrors& to, const FieldErrors& from);

std::ostream& operator<<(std::ostream& out, const FieldError& error);
std::ostream& operator<<(std::ostream& out, const FieldErrors& errors);

}  // namespace remora
