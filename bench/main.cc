// The one Google Benchmark main for halo-bench; every bench/*.cc registers its benchmarks.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
