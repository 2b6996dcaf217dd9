// The transport clock: small steps after application (when gradients are steep), growing
// geometrically to dt_max (dt_max_delivery while channels are being fed, since backward
// Euler's first-order error in the delivered dose scales with the step), and landing
// exactly on every output time.
#pragma once

#include "model/scenario.hpp"

#include <algorithm>

namespace exoderm {

class TimeStepper {
public:
    explicit TimeStepper(const TimeSpec& spec) : spec_(spec), dt_(spec.dt_initial_s) {}
    // The time of the next step from t towards `target` (an output time): exactly `target`
    // when it is reached, never beyond it.
    double next(double t_s, double target_s, bool delivering) {
        const double remaining = target_s - t_s;
        const double cap = delivering ? std::min(spec_.dt_max_s, spec_.dt_max_delivery_s) : spec_.dt_max_s;
        const double dt = std::min(dt_, cap);
        dt_ = std::min(dt * spec_.dt_growth, spec_.dt_max_s);
        // Avoid a sliver step just before the output: stretch to it or split evenly.
        if (dt >= remaining * (1.0 - 1e-9)) return target_s;
        if (remaining < 1.5 * dt) return t_s + 0.5 * remaining;
        return t_s + dt;
    }

    // The step the next call starts from (checkpoints).
    double dt_s() const { return dt_; }
    void set_dt_s(double dt_s) { dt_ = dt_s; }

private:
    TimeSpec spec_;
    double dt_;
};

} // namespace exoderm
