#include "solvers/transport.hpp"

#include <algorithm>
#include <cmath>

namespace exoderm {

double DoseLedger::in_cells() const {
    double sum = 0.0;
    for (int t = 0; t < kCellTypeCount; ++t) sum += on_cells[t] + internalised[t] + digested_in_cells[t];
    return sum;
}

double DoseLedger::balance_error_rel() const {
    return applied > 0.0 ? std::abs(accounted() - applied) / applied : std::abs(accounted());
}

void Transport::total_free(std::span<double> out) const {
    std::fill(out.begin(), out.end(), 0.0);
    for (std::size_t k = 0; k < field_classes(); ++k) {
        const auto f = free_class(k);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] += f[i];
    }
}

void Transport::total_bound(std::span<double> out) const {
    std::fill(out.begin(), out.end(), 0.0);
    for (std::size_t k = 0; k < field_classes(); ++k) {
        const auto b = bound_class(k);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] += b[i];
    }
}

} // namespace exoderm
