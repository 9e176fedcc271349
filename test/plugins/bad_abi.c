/* A plugin built for a future ABI major: the loader must refuse it, naming both versions. */
#include "remora_filter.h"

static const remora_plugin_descriptor_t kDescriptor = {
    .struct_size = sizeof(remora_plugin_descriptor_t),
    .abi_major = REMORA_FILTER_ABI_MAJOR + 1,
    .abi_minor = 0,
    .name = "bad_abi",
    .version = "9.9.9",
};

const remora_plugin_descriptor_t* remora_plugin_descriptor(void) { return &kDescriptor; }
