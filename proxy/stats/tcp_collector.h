#pragma once
// The TCP families, for listeners whose protocol is tcp or auto (TcpStats::enabled) and for
// clusters that carried a TCP connection:
//   remora_downstream_tcp_connections_total{listener}               counter
//   remora_downstream_tcp_connections_active{listener}              gauge
//   remora_downstream_tcp_bytes_total{listener,direction}           counter (received | sent)
//   remora_downstream_tcp_closes_total{listener,reason}             counter (kTcpCloseNames)
//   remora_protocol_detections_total{listener,protocol}             counter (kDetectedNames)
//   remora_protocol_detection_timeouts_total{listener}              counter
//   remora_upstream_tcp_connections_total{cluster}                  counter
//   remora_upstream_tcp_connections_active{cluster}                 gauge
//   remora_upstream_tcp_bytes_total{cluster,direction}              counter (sent | received)

#include <prometheus/metric_family.h>

#include <vector>

#include "stats/stats.h"

namespace remora::stats {

void appendTcpFamilies(const Store& store, std::vector<prometheus::MetricFamily>& out);

}  // namespace remora::stats
