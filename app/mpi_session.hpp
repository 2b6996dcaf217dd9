// MPI for `mpirun -np N exoderm sweep FILE`: initialised only when the program was started by
// an MPI launcher (so a plain `exoderm` never touches MPI), and only in builds where CMake
// found MPI (EXODERM_HAVE_MPI).
#pragma once

namespace exoderm {

class MpiSession {
public:
    MpiSession(int& argc, char**& argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    bool active() const { return active_; }
    int rank() const { return rank_; }
    int size() const { return size_; }
    // Waits for every rank (no-op without MPI).
    static void barrier();
    // True when an MPI launcher started this process but this build has no MPI.
    static bool launched_without_support();

private:
    bool active_ = false;
    int rank_ = 0;
    int size_ = 1;
};

} // namespace exoderm
