#include "common/field_error.h"

#include <ostream>

namespace remora {

std::string FieldError::str() const {
  return path.empty() ? message : path + ": " + message;
}

std::string FieldError::asWritten() const {
  if (block.empty() || path.size() <= block.size()) return str();
  // The plugin's field follows the block's path after a "." (or directly, as "[2]").
  const size_t field = block.size() + (path[block.size()] == '.' ? 1 : 0);
  return block + ": " + path.substr(field) + ": " + message;
}

std::string toLines(const FieldErrors& errors) {
  std::string out;
  for (const FieldError& e : errors) {
    if (!out.empty()) out += '\n';
    out += e.str();
  }
  return out;
}

void append(FieldErrors& to, const FieldErrors& from) {
  to.insert(to.end(), from.begin(), from.end());
}

std::ostream& operator<<(std::ostream& out, const FieldError& error) {
  return out << error.str();
}

std::ostream& operator<<(std::ostream& out, const FieldErrors& errors) {
  return out << toLines(errors);
}

}  // namespace remora
