#include "kernel/config_watcher.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace remora {
namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                                IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

size_t hashText(const std::string& text) {
  return std::hash<std::string_view>{}(text);
}

}  // namespace

Result<std::unique_ptr<ConfigWatcher>> ConfigWatcher::create(event_base* base,
                                                             const std::string& path,
                                                             const std::string& seen_text,
                                                             OnChange on_change) {
  std::unique_ptr<ConfigWatcher> w(new ConfigWatcher());
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  w->path_ = ec ? path : absolute.string();
  w->dir_ = std::filesystem::path(w->path_).parent_path().string();
  if (w->dir_.empty()) w->dir_ = ".";
  w->seen_hash_ = hashText(seen_text);
  w->on_change_ = std::move(on_change);
  w->inotify_ = Fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w->inotify_.valid())
    return Error{"config_watch: inotify_init1: " + std::string(std::strerror(errno))};
  if (inotify_add_watch(w->inotify_.get(), w->dir_.c_str(), kDirEvents) < 0)
    return Error{"config_watch: " + w->dir_ + ": " + std::strerror(errno)};
  w->read_event_.reset(
      event_new(base, w->inotify_.get(), EV_READ | EV_PERSIST, &ConfigWatcher::onInotify, w.get()));
  w->debounce_.reset(evtimer_new(base, &ConfigWatcher::onDebounce, w.get()));
  event_add(w->read_event_.get(), nullptr);
  spdlog::info("watching {} for changes (directory {})", w->path_, w->dir_);
  return w;
}

ConfigWatcher::~ConfigWatcher() = default;

void ConfigWatcher::markSeen(const std::string& text) {
  seen_hash_ = hashText(text);
}

void ConfigWatcher::onInotify(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<ConfigWatcher*>(arg);
  // The events themselves do not matter: any change in the directory means "look again", and
  // the path is re-resolved then. Drain the queue and (re)arm the debounce, so a burst (write,
  // rename, symlink swap and cleanup) costs one read.
  alignas(inotify_event) char buf[4096];
  bool self_gone = false;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      self_gone |= (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0;
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  if (self_gone)
    spdlog::warn("config_watch: directory {} was removed or moved; changes are no longer seen",
                 self->dir_);
  timeval debounce{0, static_cast<suseconds_t>(kDebounce.count() * 1000)};
  event_add(self->debounce_.get(), &debounce);
}

void ConfigWatcher::onDebounce(evutil_socket_t, short, void* arg) {
  static_cast<ConfigWatcher*>(arg)->check();
}

void ConfigWatcher::check() {
  // Opening the path follows every symlink (config.yaml → ..data/config.yaml → ..2026_x/...),
  // so a ConfigMap swap reads the new target.
  std::ifstream file(path_, std::ios::binary);
  if (!file) {
    // Between an unlink and the rename that replaces it; the rename is another event.
    spdlog::debug("config_watch: {}: cannot open: {}", path_, std::strerror(errno));
    return;
  }
  std::ostringstream text;
  text << file.rdbuf();
  const std::string content = text.str();
  const size_t hash = hashText(content);
  if (hash == seen_hash_) return;
  // Seen even when it is refused: the same bad bytes are reported once, the next write retries.
  seen_hash_ = hash;
  spdlog::info("config_watch: {} changed, applying", path_);
  on_change_(content);
}

}  // namespace remora
