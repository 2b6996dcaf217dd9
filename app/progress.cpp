#include "app/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace exoderm {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(double end, std::string unit_label, double unit_scale, bool enabled)
    : end_(end), unit_label_(std::move(unit_label)), unit_scale_(unit_scale), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(double value) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    // Redraw at most ten times a second: terminals are slow and the run is not.
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && value < end_) return;
    last_draw_ = now;
    drawn_ = true;
    const double fraction = end_ > 0.0 ? std::min(1.0, value / end_) : 1.0;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double eta = fraction > 0.0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %5.1f%%  t = %.2f / %.2f %s  elapsed %.1f s  eta %.1f s ", bar.c_str(),
                 100.0 * fraction, value / unit_scale_, end_ / unit_scale_, unit_label_.c_str(), elapsed, eta);
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (!enabled_ || !drawn_) return;
    std::fprintf(stderr, "\n");
    drawn_ = false;
    enabled_ = false;
}

} // namespace exoderm
