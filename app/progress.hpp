// A progress bar on a terminal; silent when stderr is not a TTY (logs, CI, batch jobs).
#pragma once

#include <chrono>
#include <string>

namespace exoderm {

class ProgressBar {
public:
    ProgressBar(double end, std::string unit_label, double unit_scale, bool enabled);
    ~ProgressBar();
    void update(double value);
    void finish();

private:
    double end_;
    std::string unit_label_;
    double unit_scale_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

bool stderr_is_terminal();

} // namespace exoderm
