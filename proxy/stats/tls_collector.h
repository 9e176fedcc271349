#pragma once
// The TLS families, for listeners and clusters with a `tls:` block (TlsStats::enabled):
//   remora_downstream_tls_handshakes_total{listener,version}          counter
//   remora_downstream_tls_handshake_failures_total{listener,reason}   counter
//   remora_downstream_tls_resumptions_total{listener}                 counter
//   remora_downstream_tls_handshakes_in_progress{listener}            gauge
//   remora_downstream_tls_handshake_duration_seconds{listener}        histogram
//   remora_upstream_tls_handshakes_total{cluster,version}             counter
//   remora_upstream_tls_handshake_failures_total{cluster,reason}      counter
//   remora_upstream_tls_resumptions_total{cluster}                    counter
//   remora_upstream_tls_handshakes_in_progress{cluster}               gauge
//   remora_upstream_tls_handshake_duration_seconds{cluster}           histogram
// `reason` is one of network::kTlsFailureNames; `version` TLSv1.2 or TLSv1.3.

#include <prometheus/metric_family.h>

#include <vector>

#include "stats/stats.h"

namespace remora::stats {

void appendTlsFamilies(const Store& store, std::vector<prometheus::MetricFamily>& out);

}  // namespace remora::stats
