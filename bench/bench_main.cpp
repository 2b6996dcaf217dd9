// Entry point of exoderm_bench (the benchmarks register themselves in the other files).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
