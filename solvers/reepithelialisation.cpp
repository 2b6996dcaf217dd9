#include "solvers/reepithelialisation.hpp"

#include <algorithm>
#include <cmath>

namespace exoderm {

namespace {
double initial_half_size(const WoundGeometry& w, double box_x_um) {
    switch (w.spec().shape) {
    case WoundShape::Disk: return w.spec().radius_um;
    case WoundShape::Strip: return 0.5 * w.spec().width_um;
    case WoundShape::Box: return 0.5 * box_x_um;
    case WoundShape::None: break;
    }
    return 0.0;
}
} // namespace

ReepithelialisationFront::ReepithelialisationFront(const WoundGeometry& wound)
    : wound_(wound), initial_um_(initial_half_size(wound, 2.0 * wound.centre_x_um())), open_um_(initial_um_) {}

double ReepithelialisationFront::closed_fraction() const {
    if (!(initial_um_ > 0.0)) return 1.0;
    const double open = open_um_ / initial_um_;
    return wound_.spec().shape == WoundShape::Disk ? 1.0 - open * open : 1.0 - open;
}

double ReepithelialisationFront::speed_um_per_s(double signal) const {
    const WoundSpec& w = wound_.spec();
    const double share = signal > 0.0 ? signal / (w.signal_half + signal) : 0.0;
    return w.front_speed_um_per_s * (1.0 + w.ev_acceleration * share);
}

void ReepithelialisationFront::advance(double dt_s, double signal) {
    open_um_ = std::max(0.0, open_um_ - speed_um_per_s(signal) * dt_s);
}

bool ReepithelialisationFront::senses(double x, double y, double z) const {
    const double band = wound_.spec().sense_band_um;
    const double below = z - wound_.bed_depth_um();
    if (below < 0.0 || below > band) return false;
    const double dx = x - wound_.centre_x_um(), dy = y - wound_.centre_y_um();
    if (wound_.spec().shape == WoundShape::Disk) return std::abs(std::hypot(dx, dy) - open_um_) <= band;
    if (wound_.spec().shape == WoundShape::Strip && std::abs(dy) > 0.5 * wound_.spec().length_um) return false;
    return std::abs(std::abs(dx) - open_um_) <= band;
}

double front_signal(const ReepithelialisationFront& front, const CellPopulation& cells) {
    double sum = 0.0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells.type[i] == CellType::Keratinocyte) continue;
        if (!front.senses(cells.x_um[i], cells.y_um[i], cells.z_um[i])) continue;
        sum += cells.signal[i];
        ++n;
    }
    return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

} // namespace exoderm
