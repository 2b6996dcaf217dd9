// SIGINT and SIGTERM ask a run or a sweep to stop at the next step instead of killing it, so the
// result file stays valid (marked incomplete) and a sweep's finished runs stay in its journal.
//
// The handler only sets a flag (async-signal-safe); a second signal of either kind restores the
// default action and re-raises it, so pressing Ctrl-C twice still kills at once. The flag is the
// one piece of process-wide state in exoderm: a signal handler has nowhere else to write.
#pragma once

namespace exoderm {

void install_stop_handlers();

// The signal that asked to stop (SIGINT or SIGTERM), or 0.
int stop_signal();

} // namespace exoderm
