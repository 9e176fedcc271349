#include "config/json_document.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace remora::config {
namespace {

using nlohmann::json;

// nlohmann::json's SAX events, building YAML nodes instead of a json value: one pass over the
// text, and no json object whose sorted keys would lose the document's order and repeats.
class DocumentBuilder {
 public:
  bool null() { return add(YAML::Node(YAML::NodeType::Null)); }
  bool boolean(bool value) { return add(scalar(value ? "true" : "false", "?")); }
  bool number_integer(json::number_integer_t value) {
    return add(scalar(std::to_string(value), "?"));
  }
  bool number_unsigned(json::number_unsigned_t value) {
    return add(scalar(std::to_string(value), "?"));
  }
  bool number_float(json::number_float_t, const std::string& text) {
    return add(scalar(text, "?"));
  }
  bool string(std::string& value) { return add(scalar(value, "!")); }
  bool binary(json::binary_t&) { return false; }  // JSON text has no binary values
  bool start_object(std::size_t) { return open(YAML::NodeType::Map); }
  bool key(std::string& key) {
    open_.back().key = key;
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(YAML::NodeType::Sequence); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error_ = e.what();
    return false;
  }

  const YAML::Node& root() const { return root_; }
  const std::string& error() const { return error_; }

 private:
  struct Open {
    YAML::Node node;
    std::string key;  // of the next value, in a map
  };

  // The tags YAML::Load gives: "?" for a plain scalar (a number, true), "!" for a quoted one.
  static YAML::Node scalar(const std::string& text, const char* tag) {
    YAML::Node node(text);
    node.SetTag(tag);
    return node;
  }

  bool open(YAML::NodeType::value type) {
    open_.push_back({YAML::Node(type), {}});
    return true;
  }

  bool close() {
    YAML::Node done = open_.back().node;
    open_.pop_back();
    return add(done);
  }

  bool add(const YAML::Node& value) {
    if (open_.empty()) {
      root_ = value;
    } else if (Open& parent = open_.back(); parent.node.IsMap()) {
      // force_insert keeps a repeated key, as YAML::Load does, for the loader to report.
      parent.node.force_insert(scalar(parent.key, "!"), value);
    } else {
      parent.node.push_back(value);
    }
    return true;
  }

  std::vector<Open> open_;
  YAML::Node root_;
  std::string error_;
};

}  // namespace

ConfigResult<YAML::Node> parseJsonDocument(std::string_view text, const std::string& origin) {
  DocumentBuilder builder;
  if (!json::sax_parse(text.begin(), text.end(), &builder))
    return FieldErrors{{origin, "invalid JSON: " + builder.error()}};
  return builder.root();
}

}  // namespace remora::config
