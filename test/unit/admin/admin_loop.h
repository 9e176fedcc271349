#pragma once
// An AdminServer on a real event_base, looping on its own thread as the main thread would.

#include <event2/event.h>
#include <event2/thread.h>

#include <string>
#include <thread>

#include "admin/admin_server.h"
#include "common/c_handles.h"

namespace remora::admin {

class AdminLoop {
 public:
  AdminLoop() : base_(newBase()) {}
  ~AdminLoop() { stop(); }
  AdminLoop(const AdminLoop&) = delete;
  AdminLoop& operator=(const AdminLoop&) = delete;

  event_base* base() const { return base_.get(); }
  uint16_t port() const { return server_->port(); }

  // Binds 127.0.0.1 on a free port and starts looping; the error when the server cannot start.
  // The control role serves every endpoint; `listener` picks another role, a token or a socket.
  std::string start(AdminContext context, AdminListener listener = defaultListener()) {
    auto server = AdminServer::create(base_.get(), listener, std::move(context));
    if (!server.ok()) return server.error();
    server_ = std::move(server).value();
    if (listener.unix_path.empty() && server_->port() == 0) return "bound to port 0";
    loop_ = std::thread([this] { event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY); });
    return "";
  }

  void stop() {
    if (loop_.joinable()) {
      event_base_loopexit(base_.get(), nullptr);
      loop_.join();
    }
    server_.reset();
  }

  static AdminListener defaultListener() {
    AdminListener l;
    l.role = AdminRole::kControl;
    l.address = {"127.0.0.1", 0};
    return l;
  }

 private:
  static event_base* newBase() {
    // Lets the test thread stop the loop thread with event_base_loopexit(); must precede
    // event_base_new().
    static const bool threads = evthread_use_pthreads() == 0;
    return threads ? event_base_new() : nullptr;
  }

  EventBasePtr base_;
  std::unique_ptr<AdminServer> server_;
  std::thread loop_;
};

}  // namespace remora::admin
