/* Subscribes to every event-bus topic ("*") in start and logs each delivery, so an integration
 * test can see what the kernel published: "event_probe saw <topic> <payload>". */
#include <stdio.h>

#include "remora_filter.h"

static const remora_host_api_t* g_host;
static uint64_t g_sub;

static void on_event(void* user, remora_str_t topic, remora_str_t payload) {
  (void)user;
  char line[2048];
  int n = snprintf(line, sizeof(line), "event_probe saw %.*s %.*s", (int)topic.len, topic.data,
                   (int)payload.len, payload.data);
  if (n < 0) return;
  if ((size_t)n >= sizeof(line)) n = sizeof(line) - 1;
  g_host->log(REMORA_LOG_INFO, (remora_str_t){line, (size_t)n});
}

static int start(const remora_host_api_t* host) {
  g_host = host;
  g_sub = host->subscribe((remora_str_t){"*", 1}, on_event, NULL);
  return 1;
}

static void stop(void) {
  if (g_sub != 0) g_host->unsubscribe(g_sub);
  g_sub = 0;
}

static const remora_plugin_descriptor_t kDescriptor = {
    .struct_size = sizeof(remora_plugin_descriptor_t),
    .abi_major = REMORA_FILTER_ABI_MAJOR,
    .abi_minor = REMORA_FILTER_ABI_MINOR,
    .name = "event_probe",
    .version = "1.0.0",
    .priority = 100,
    .start = start,
    .stop = stop,
};

__attribute__((visibility("default"))) const remora_plugin_descriptor_t* remora_plugin_descriptor(
    void) {
  return &kDescriptor;
}
