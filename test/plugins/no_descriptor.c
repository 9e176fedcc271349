/* A shared object that is not a Remora plugin: it exports no descriptor. */
int remora_not_a_plugin(void) { return 42; }
