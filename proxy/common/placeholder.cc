// Placeholder translation unit so remora_core has a source before the kernel lands.
