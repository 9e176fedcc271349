#pragma once
// The config helpers' earlier home: fieldPath, indexPath, describeJson, checkObject,
// parseDuration and durationField now live in config_reader.h, beside ConfigReader. Kept so
// filters that include this header still build; new code includes config_reader.h.

#include <remora/sdk/config_reader.h>
