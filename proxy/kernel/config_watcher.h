#pragma once
// ConfigWatcher: notices when the config file changes and hands its new text to a callback
// (main thread). It watches the file's directory, not the file: editors save by writing a new
// file and renaming it over the old one, and a Kubernetes ConfigMap volume swaps its `..data`
// symlink atomically, so the inode of "the file" is replaced rather than written. Any change of
// a directory entry (created, moved in, closed after writing, deleted) re-reads the path
// through its symlinks after a short debounce; the callback runs only when the content differs
// from the last content seen, so unrelated files in the directory cost one read and one hash.

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/c_handles.h"
#include "common/result.h"

namespace remora {

class ConfigWatcher {
 public:
  using OnChange = std::function<void(const std::string& text)>;
  static constexpr std::chrono::milliseconds kDebounce{50};

  // Starts watching `path`'s directory on `base`. `seen_text` is the content already in service
  // (read at start-up), so a touch that changes nothing does not re-apply it.
  static Result<std::unique_ptr<ConfigWatcher>> create(event_base* base, const std::string& path,
                                                       const std::string& seen_text,
                                                       OnChange on_change);
  ~ConfigWatcher();

  // Records `text` as seen (e.g. after a SIGHUP re-read the file), so the watch does not apply
  // the same content a second time.
  void markSeen(const std::string& text);

 private:
  ConfigWatcher() = default;
  static void onInotify(evutil_socket_t fd, short, void* arg);
  static void onDebounce(evutil_socket_t, short, void* arg);
  void check();

  std::string path_;
  std::string dir_;
  Fd inotify_;
  EventPtr read_event_;
  EventPtr debounce_;
  size_t seen_hash_ = 0;
  OnChange on_change_;
};

}  // namespace remora
