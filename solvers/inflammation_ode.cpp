#include "solvers/inflammation_ode.hpp"

#include <boost/numeric/odeint.hpp>

namespace exoderm {

WaughSherrattParameters waugh_sherratt_published(double alpha) {
    // Waugh & Sherratt 2006, Bull Math Biol 68:197; BioModels BIOMD0000000680.
    return WaughSherrattParameters{alpha, 0.05, 0.693, 0.002, 0.07, 0.2, 9.1};
}

InflammationState waugh_sherratt_initial() { return InflammationState{200.0, 200.0, 6.0}; }

double waugh_sherratt_recruitment(double t) { return ((-2.47 * t + 21.94) * t + 6.41) * t + 1.75; }

InflammationState waugh_sherratt_rhs(const WaughSherrattParameters& p, const InflammationState& s) {
    const double k = waugh_sherratt_recruitment(s.tgf_beta);
    const double growth = p.k1 * p.k2 * (1.0 - p.k3 * (s.phi_inflammatory + s.phi_repair));
    return InflammationState{
        p.alpha * k + growth * s.phi_inflammatory - p.d1 * s.phi_inflammatory,
        (1.0 - p.alpha) * k + growth * s.phi_repair - p.d1 * s.phi_repair,
        p.k4 * s.phi_inflammatory - p.d2 * s.tgf_beta,
    };
}

InflammationState integrate_well_mixed(const WaughSherrattParameters& p, InflammationState start, double days,
                                       double rel_tol) {
    namespace odeint = boost::numeric::odeint;
    using State = std::array<double, 3>;
    State x{start.phi_inflammatory, start.phi_repair, start.tgf_beta};
    if (days <= 0.0) return start;
    auto system = [&p](const State& y, State& dydt, double /*t*/) {
        const InflammationState d = waugh_sherratt_rhs(p, InflammationState{y[0], y[1], y[2]});
        dydt = {d.phi_inflammatory, d.phi_repair, d.tgf_beta};
    };
    const double abs_tol = rel_tol;
    odeint::integrate_adaptive(odeint::make_controlled(abs_tol, rel_tol, odeint::runge_kutta_dopri5<State>()),
                               system, x, 0.0, days, days * 1e-3);
    return InflammationState{x[0], x[1], x[2]};
}

} // namespace exoderm
