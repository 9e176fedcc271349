#include "plugin/plugin_generation.h"

#include "event/dispatcher.h"
#include "plugin/lifecycle_events.h"
#include "plugin/plugin_scope.h"

#include <dlfcn.h>
#include <nettle/sha2.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace remora::plugin {
namespace {

std::atomic<uint64_t> g_next_generation{1};

bool validName(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* p = name; *p; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return true;
}

}  // namespace

// Nettle's sha256, not OpenSSL's EVP: EVP loads the default provider and touches much of
// libcrypto, about 3.3 MiB of RSS in every sidecar, for one hash per plugin file. Nettle uses the
// CPU's SHA extensions like OpenSSL (libmd, smaller still, hashes 5-10 times slower, which a cold
// start over a directory of -g plugin builds would feel). The kernel links no libcrypto at all;
// only the auth filter maps it, when it is configured.
Result<std::string> sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": " + std::strerror(errno)};
  sha256_ctx ctx;
  sha256_init(&ctx);
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    if (in.gcount() > 0)
      sha256_update(&ctx, size_t(in.gcount()), reinterpret_cast<const uint8_t*>(buf));
  }
  if (in.bad()) return Error{path + ": read failed"};
  uint8_t md[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof(md), md);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof(md));
  for (uint8_t b : md) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xf]);
  }
  return hex;
}

void PluginGeneration::release(PluginGeneration* gen) {
  Dispatcher* main = gen->context_->main;
  if (main == nullptr || main->onOwnThread()) {
    delete gen;
    return;
  }
  main->post([gen] { delete gen; });
}

Result<std::shared_ptr<PluginGeneration>> PluginGeneration::load(const std::string& path,
                                                                 const std::string& cache_dir,
                                                                 const remora_host_api_t* host,
                                                                 const HostContext& context,
                                                                 size_t workers) {
  namespace fs = std::filesystem;
  auto sha = sha256File(path);
  if (!sha) return Error{sha.error()};
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return Error{path + ": cannot create plugin cache " + cache_dir + ": " + ec.message()};
  std::string copy = cache_dir + "/" + *sha + ".so";
  if (!fs::exists(copy, ec)) {
    // Copy then rename, so a concurrent reader never maps a half-written file.
    std::string tmp = copy + ".tmp." + std::to_string(::getpid());
    fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(tmp, copy, ec);
    if (ec) return Error{path + ": cannot copy to " + copy + ": " + ec.message()};
  }
  std::shared_ptr<PluginGeneration> gen(new PluginGeneration(), &PluginGeneration::release);
  gen->context_ = &context;
  gen->source_path_ = path;
  gen->loaded_path_ = copy;
  gen->sha256_ = *sha;
  gen->workers_ = workers;
  gen->inflight_.reset(new stats::Gauge[workers]);
  gen->errors_.reset(new stats::Counter[workers]);
  gen->requests_.reset(new stats::Counter[workers]);
  gen->handle_ = ::dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (gen->handle_ == nullptr) {
    const char* why = ::dlerror();
    return Error{path + ": not a loadable shared object: " + (why ? why : "unknown error")};
  }
  void* sym = ::dlsym(gen->handle_, REMORA_PLUGIN_DESCRIPTOR_SYMBOL);
  if (sym == nullptr)
    return Error{path + ": missing symbol " REMORA_PLUGIN_DESCRIPTOR_SYMBOL
                        " (is it a Remora filter plugin?)"};
  auto fn = reinterpret_cast<remora_plugin_descriptor_fn>(sym);
  const remora_plugin_descriptor_t* d = fn();
  if (d == nullptr || d->struct_size < offsetof(remora_plugin_descriptor_t, on_log))
    return Error{path + ": invalid plugin descriptor"};
  if (d->abi_major != REMORA_FILTER_ABI_MAJOR || d->abi_minor > REMORA_FILTER_ABI_MINOR) {
    return Error{path + ": plugin ABI " + std::to_string(d->abi_major) + "." +
                 std::to_string(d->abi_minor) + " is not supported by this kernel (ABI " +
                 std::to_string(REMORA_FILTER_ABI_MAJOR) + "." +
                 std::to_string(REMORA_FILTER_ABI_MINOR) + ")"};
  }
  if (!validName(d->name)) return Error{path + ": plugin name must match [a-z0-9_]+"};
  gen->desc_ = d;
  gen->name_ = d->name;
  gen->version_ = d->version ? d->version : "";
  gen->generation_ = g_next_generation++;
  spdlog::info("plugin {} {} loaded as generation {} (sha256 {})", gen->name_, gen->version_,
               gen->generation_, gen->sha256_.substr(0, 12));
  publishLifecycle(context, "loaded", describeGeneration(*gen));
  if (d->start != nullptr) {
    PluginScope scope(gen->name_, &context);
    if (d->start(host) == 0) return Error{path + ": plugin " + gen->name_ + " failed to start"};
  }
  gen->started_ = true;
  publishLifecycle(context, "started", describeGeneration(*gen));
  return gen;
}

PluginGeneration::~PluginGeneration() {
  if (started_) {
    if (desc_->stop != nullptr) {
      PluginScope scope(name_, context_);
      desc_->stop();
    }
    publishLifecycle(*context_, "stopped", describeGeneration(*this));
  }
  if (handle_ != nullptr) {
    ::dlclose(handle_);
    if (desc_ != nullptr) publishLifecycle(*context_, "unloaded", describeGeneration(*this));
  }
}

bool PluginGeneration::canExportState() const {
  return REMORA_DESCRIPTOR_HAS(desc_, state_export) && desc_->state_export != nullptr;
}

bool PluginGeneration::canImportState() const {
  return REMORA_DESCRIPTOR_HAS(desc_, state_import) && desc_->state_import != nullptr;
}

uint64_t PluginGeneration::requestsTotal() const {
  uint64_t n = 0;
  for (size_t i = 0; i < workers_; ++i) n += requests_[i].value();
  return n;
}

int64_t PluginGeneration::inflightTotal() const {
  int64_t n = 0;
  for (size_t i = 0; i < workers_; ++i) n += inflight_[i].value();
  return n;
}

uint64_t PluginGeneration::errorsTotal() const {
  uint64_t n = 0;
  for (size_t i = 0; i < workers_; ++i) n += errors_[i].value();
  return n;
}

}  // namespace remora::plugin
