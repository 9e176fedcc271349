#pragma once
// A private directory under /tmp for one test object's files (configs, captured output),
// removed with everything in it when the object goes.

#include <string>

namespace remora::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Absolute path of `name` inside the directory (the file need not exist).
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Reads a whole file; empty when it cannot be opened.
std::string readFile(const std::string& path);
// Writes `text` to `path` through a temporary file and rename(), so a reader never sees it
// half written.
void writeFileAtomically(const std::string& path, const std::string& text);

}  // namespace remora::test
