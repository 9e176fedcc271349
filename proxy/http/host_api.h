#pragma once
// The kernel's implementation of remora_host_api_t, the table every plugin receives in start().
// Stream calls resolve the opaque remora_stream_t to its ProxyStream; the calls that carry no
// stream (publish, subscribe, eject_endpoint) and the metric calls reach the services of the
// kernel whose plugin is running (plugin/host_context.h, named by its PluginScope), so the
// table itself is constant and nothing is installed into it.

#include "plugin/abi/remora_filter.h"

namespace remora::plugin {

const remora_host_api_t* hostApi();

}  // namespace remora::plugin
