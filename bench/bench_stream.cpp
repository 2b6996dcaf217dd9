// STREAM triad, a[i] = b[i] + s * c[i], on three arrays of 80 MB each (10^7 doubles; far
// larger than the 32 MB L3), so the diffusion figures can be set against the bandwidth the
// same machine sustains in the same run.
//
// Counters:
//   bytes_per_second     24 B per element: read b, read c, write a (the STREAM convention,
//                        write-allocate NOT counted)
//   bytes_per_second_wa  32 B per element: also counts the read-for-ownership of a
//                        (write-allocate), i.e. the traffic the memory bus actually carries
//                        with ordinary (non-temporal-free) stores
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace {

constexpr std::size_t kElements = 10'000'000; // 80 MB per array

void BM_StreamTriad(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    const int previous_threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    // Uninitialised allocation, then first touch with the same static schedule as the
    // kernel so that pages land where they are used.
    std::unique_ptr<double[]> a_store(new double[kElements]), b_store(new double[kElements]),
        c_store(new double[kElements]);
    double* __restrict a = a_store.get();
    double* __restrict b = b_store.get();
    double* __restrict c = c_store.get();
    const auto n = static_cast<std::ptrdiff_t>(kElements);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    const double s = 3.0;
    for (auto _ : state) {
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
        benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(a[kElements / 2]);
    const auto elements = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kElements);
    state.SetItemsProcessed(elements);
    state.SetBytesProcessed(elements * 24);
    state.counters["bytes_per_second_wa"] =
        benchmark::Counter(static_cast<double>(elements) * 32.0, benchmark::Counter::kIsRate,
                           benchmark::Counter::kIs1024);
    state.counters["threads"] = threads;
    omp_set_num_threads(previous_threads);
}
BENCHMARK(BM_StreamTriad)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
