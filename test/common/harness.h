#pragma once
// Everything an integration test needs: ports, child processes, the demo upstream, the remora
// binary and a raw HTTP/1.1 client.

#include "common/demo_upstream.h"
#include "common/http_client.h"
#include "common/net.h"
#include "common/observe.h"
#include "common/process.h"
#include "common/proxy_under_test.h"
#include "common/raw_upstream.h"
#include "common/remora_process.h"
#include "common/temp_dir.h"
