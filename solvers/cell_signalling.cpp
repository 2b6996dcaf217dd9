#include "solvers/cell_signalling.hpp"

#include "model/product_factors.hpp"

#include <boost/numeric/odeint/integrate/integrate_n_steps.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace exoderm {

namespace {

// Cells per chunk. The chunk's state and the stepper's copies (about 6 x 5 x kChunk doubles)
// stay below glibc's mmap threshold (128 KiB each), so they come from the heap's free lists:
// at 4096 every step mapped and zero-filled fresh pages (a third of a small run's time went to
// page faults). Each cell's equations are independent, so the chunking does not change results.
constexpr std::size_t kChunk = 512;
constexpr int kVars = 5; // B, N, S, released, digested

// Right-hand side over one chunk; the state is [B | N | S | released | digested], n each.
struct ChunkSystem {
    std::size_t n;
    const double* inflow;   // J per cell (vesicles/s)
    const double* k_loss_b; // k_off + k_int
    const double* k_off;
    const double* k_int;
    const double* k_lys;
    const double* k_sig;
    double potency;

    void operator()(const std::vector<double>& x, std::vector<double>& dxdt, double /*t*/) const {
        const double* b = x.data();
        const double* nn = b + n;
        const double* s = nn + n;
        double* db = dxdt.data();
        double* dn = db + n;
        double* ds = dn + n;
        double* drel = ds + n;
        double* ddig = drel + n;
        for (std::size_t i = 0; i < n; ++i) {
            db[i] = inflow[i] - k_loss_b[i] * b[i];
            dn[i] = k_int[i] * b[i] - k_lys[i] * nn[i];
            ds[i] = k_sig[i] * (potency * nn[i] - s[i]);
            drel[i] = k_off[i] * b[i];
            ddig[i] = k_lys[i] * nn[i];
        }
    }
};

} // namespace

SignallingSetup signalling_setup(const Scenario& s) {
    SignallingSetup out;
    for (int t = 0; t < kCellTypeCount; ++t) {
        const auto& c = s.cells.types[static_cast<std::size_t>(t)];
        out.types[static_cast<std::size_t>(t)] = {c.k_off_per_s, c.k_int_per_s, c.k_lys_per_s, c.signal_rate_per_s};
    }
    // S carries repair and contaminant cargo alike; the responses split it (model/product_factors.hpp).
    out.potency = product_factors(s).signal_potency();
    return out;
}

int signalling_substeps(const SignallingSetup& setup, double dt_s) {
    double fastest = 0.0;
    for (const auto& t : setup.types)
        fastest = std::max({fastest, t.k_off_per_s + t.k_int_per_s, t.k_lys_per_s, t.k_signal_per_s});
    return std::max(1, static_cast<int>(std::ceil(dt_s * fastest / 0.2)));
}

void signalling_step(const SignallingSetup& setup, CellPopulation& cells, std::span<const double> captured,
                     double dt_s, std::span<double> released_out) {
    namespace odeint = boost::numeric::odeint;
    const std::size_t n = cells.size();
    std::fill(released_out.begin(), released_out.end(), 0.0);
    // Only cells that hold or receive something change; most cells of a run hold nothing.
    std::vector<std::uint32_t> active;
    for (std::size_t i = 0; i < n; ++i)
        if (captured[i] != 0.0 || cells.bound[i] != 0.0 || cells.internalised[i] != 0.0 || cells.signal[i] != 0.0)
            active.push_back(static_cast<std::uint32_t>(i));
    const std::size_t count = active.size();
    const std::size_t chunks = (count + kChunk - 1) / kChunk;
    const int substeps = signalling_substeps(setup, dt_s);
    const double h = dt_s / substeps;
#pragma omp parallel for schedule(dynamic, 1)
    for (std::ptrdiff_t ci = 0; ci < static_cast<std::ptrdiff_t>(chunks); ++ci) {
        const std::size_t begin = static_cast<std::size_t>(ci) * kChunk;
        const std::size_t m = std::min(kChunk, count - begin);
        std::vector<double> inflow(m), loss_b(m), k_off(m), k_int(m), k_lys(m), k_sig(m);
        std::vector<double> x(kVars * m);
        for (std::size_t j = 0; j < m; ++j) {
            const std::size_t i = active[begin + j];
            const auto& r = setup.types[static_cast<std::size_t>(cells.type[i])];
            inflow[j] = captured[i] / dt_s;
            k_off[j] = r.k_off_per_s;
            k_int[j] = r.k_int_per_s;
            k_lys[j] = r.k_lys_per_s;
            k_sig[j] = r.k_signal_per_s;
            loss_b[j] = r.k_off_per_s + r.k_int_per_s;
            x[j] = cells.bound[i];
            x[m + j] = cells.internalised[i];
            x[2 * m + j] = cells.signal[i];
            x[3 * m + j] = 0.0; // released during this step
            x[4 * m + j] = 0.0; // digested during this step
        }
        const ChunkSystem system{m, inflow.data(), loss_b.data(), k_off.data(), k_int.data(), k_lys.data(),
                                 k_sig.data(), setup.potency};
        odeint::runge_kutta4<std::vector<double>> stepper;
        odeint::integrate_n_steps(stepper, system, x, 0.0, h, substeps);
        for (std::size_t j = 0; j < m; ++j) {
            const std::size_t i = active[begin + j];
            // Amounts below 1e-200 vesicles are set to zero: denormal numbers would slow every
            // later step, and the change is far below round-off of the balance.
            const auto flush = [](double v) { return std::abs(v) < 1e-200 ? 0.0 : v; };
            cells.bound[i] = flush(x[j]);
            cells.internalised[i] = flush(x[m + j]);
            cells.signal[i] = flush(x[2 * m + j]);
            cells.captured[i] += captured[i];
            cells.released[i] += x[3 * m + j];
            cells.digested[i] += x[4 * m + j];
            released_out[i] = x[3 * m + j];
        }
    }
}

} // namespace exoderm
