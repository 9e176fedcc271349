#include "discovery/fleet.h"

#include <unistd.h>

namespace remora::discovery {

std::string defaultInstanceId() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

namespace {

config::EtcdSource withInstance(config::EtcdSource s) {
  if (s.instance.empty()) s.instance = defaultInstanceId();
  return s;
}

}  // namespace

Fleet::Fleet(event_base* base, const config::Config& startup, SubmitFn submit, PublishFn publish)
    : source_(withInstance(startup.etcd)),
      client_(source_.endpoints.empty() ? nullptr
                                        : std::make_unique<etcd::Client>(base, source_.endpoints)),
      discovery_(base, client_.get(), std::move(publish)) {
  if (!client_) return;
  config_source_ = std::make_unique<EtcdConfigSource>(*client_, source_, std::move(submit));
  if (!startup.registration.service.empty())
    registrar_ = std::make_unique<Registrar>(*client_, startup.registration, source_.instance);
}

void Fleet::start() {
  if (config_source_) config_source_->start();
  if (registrar_) registrar_->start();
}

}  // namespace remora::discovery
