#include "app/mpi_session.hpp"

#include <cstdlib>

#ifdef EXODERM_HAVE_MPI
// The C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace exoderm {

namespace {
bool started_by_launcher() {
    return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
           std::getenv("PMIX_RANK") != nullptr;
}
} // namespace

MpiSession::MpiSession(int& argc, char**& argv) {
#ifdef EXODERM_HAVE_MPI
    if (!started_by_launcher()) return;
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    active_ = true;
#else
    (void)argc;
    (void)argv;
#endif
}

MpiSession::~MpiSession() {
#ifdef EXODERM_HAVE_MPI
    if (active_) MPI_Finalize();
#endif
}

void MpiSession::barrier() {
#ifdef EXODERM_HAVE_MPI
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

bool MpiSession::launched_without_support() {
#ifdef EXODERM_HAVE_MPI
    return false;
#else
    return started_by_launcher();
#endif
}

} // namespace exoderm
